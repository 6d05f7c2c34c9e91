import ArrowApp
import ArrowCore
import ArrowDatabase
import ArrowNetwork
import ArrowTesting
import Foundation
import Logging
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsAreTheEmbeddedOnes() async throws {
        let config = try await AppConfiguration.load(environment: [:])
        #expect(config.port == 8080)
        #expect(config.host == "127.0.0.1")
        #expect(config.dataDirectory == "./arrow-data")
        guard case .sqlite(let path) = config.database.kind else { Issue.record("expected SQLite"); return }
        #expect(path.hasSuffix("arrow-data/arrow.sqlite"))
    }

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let file = dir + "/arrow.yaml"
        try "port: 7000\nhost: 0.0.0.0\ndata:\n  dir: /from/file\nlog:\n  level: debug\n".write(toFile: file, atomically: true, encoding: .utf8)
        let config = try await AppConfiguration.load(
            flags: ["port": "9000"], environment: ["ARROW_PORT": "8000", "ARROW_DATA_DIR": "/from/env"], configFile: file)
        #expect(config.port == 9000)
        #expect(config.dataDirectory == "/from/env")
        #expect(config.host == "0.0.0.0")
        #expect(config.logLevel == .debug)
    }

    @Test func databaseURLSwitchesToPostgres() async throws {
        let config = try await AppConfiguration.load(environment: ["ARROW_DATABASE_URL": "postgres://u:p@db:5432/arrow"])
        #expect(config.database.kind == .postgres(url: "postgres://u:p@db:5432/arrow"))
    }

    @Test func configFileNamedByEnvironmentMustExist() async throws {
        await #expect(throws: ConfigurationError.self) {
            try await AppConfiguration.load(environment: ["ARROW_CONFIG": "/nonexistent/arrow.yaml"])
        }
    }

    @Test func buildServerNetworksAreRead() async throws {
        #expect(try await AppConfiguration.load(environment: [:]).buildServerNetworks.isEmpty)
        let config = try await AppConfiguration.load(environment: ["ARROW_BUILDS_SERVERS_NETWORKS": "10.0.0.0/8, fd00::/8 192.168.7.1"])
        #expect(config.buildServerNetworks.map(\.description) == ["10.0.0.0/8", "fd00::/8", "192.168.7.1/32"])
    }

    @Test func theTemplateSchedulersIntervalIsConfigurable() async throws {
        #expect(try await AppConfiguration.load(environment: [:]).templateInterval == 15)
        #expect(try await AppConfiguration.load(environment: ["ARROW_TEMPLATES_INTERVAL": "2.5"]).templateInterval == 2.5)
    }

    @Test(arguments: [["ARROW_PORT": "70000"], ["ARROW_LOG_LEVEL": "loud"], ["ARROW_BCRYPT_COST": "2"], ["ARROW_DATABASE_URL": "sqlite:x"],
                      ["ARROW_TEMPLATES_INTERVAL": "0"], ["ARROW_TEMPLATES_INTERVAL": "soon"], ["ARROW_BUILDS_SERVERS_NETWORKS": "10.0.0.0/33"]])
    func badValuesAreRefusedWithTheKeyNamed(_ environment: [String: String]) async throws {
        let error = await #expect(throws: ConfigurationError.self) { try await AppConfiguration.load(environment: environment) }
        let key = environment.keys.first!.dropFirst("ARROW_".count).lowercased().replacingOccurrences(of: "_", with: ".")
        #expect(error?.description.contains(key) == true)
    }

    @Test func unrelatedEnvironmentVariablesAreIgnored() async throws {
        // A bare PORT (set by many platforms) must not move the server; only ARROW_PORT does.
        let config = try await AppConfiguration.load(environment: ["PORT": "1234", "HOST": "example.com"])
        #expect(config.port == 8080)
        #expect(config.host == "127.0.0.1")
    }
}

@Suite struct SecurityTests {
    @Test func theDummyHashForUnknownUsersCostsARealVerification() async throws {
        let hasher = BcryptPasswordHasher(cost: 12)
        let clock = ContinuousClock()
        let start = clock.now
        let matches = try await hasher.verify("anything", hash: IdentityService.unusableHash)
        let dummy = clock.now - start
        #expect(!matches)
        // A malformed dummy would be refused in microseconds and reveal which emails exist; a real cost-12
        // verification takes far longer than 50 ms on any machine, and a busy one only slows it further. (Compared
        // with a real verification timed beside it, this failed whenever other tests loaded the machine.)
        #expect(dummy > .milliseconds(50), "dummy verification took \(dummy)")
        #expect(IdentityService.unusableHash.hasPrefix("$2b$12$") && IdentityService.unusableHash.count == 60)
    }

    @Test func tokenSecretsHave256BitsAndHexDigests() {
        let secrets = RandomTokenSecrets()
        let a = secrets.generate()
        #expect(a.hasPrefix("arw_"))
        #expect(a.count == 4 + 43)  // 32 bytes in unpadded base64url
        #expect(a != secrets.generate())
        #expect(secrets.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(secrets.digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(secrets.digest("arw_é🚀") == "dc818ce19b49e77741b1d9d29a2ac7d9b9f1be05421c3d8a42f571707d88defa")
        // A secret that is a slice of a larger string (as the bearer token is of its header) hashes the same.
        #expect(secrets.digest(String("Bearer abc".dropFirst(7))) == secrets.digest("abc"))
    }
}
