import ArrowBuilds
import ArrowCore
import ArrowNetwork
import ArrowRegistry
import Configuration
import ArrowStorage
import Foundation
import Logging
import SystemPackage

extension AppConfiguration {
    /// The keys `load` reads. Environment names are the key upper-cased with `.` → `_` and an `ARROW_` prefix
    /// (`database.url` → `ARROW_DATABASE_URL`); the YAML file nests them (`database: {url: …}`).
    public static let keys = [
        "host", "port", "data.dir", "database.url", "database.connections", "log.level", "bcrypt.cost", "session.lifetime", "auth.cache.ttl", "public.url",
        "b2.bucket", "b2.public.bucket", "b2.key.id", "b2.app.key", "b2.endpoint", "b2.region", "storage.path.style",
        "builds.lease.seconds", "builds.heartbeat.interval", "builds.lease.losses", "builds.sweep.interval", "templates.interval",
        "secrets.key", "webhooks.allow.private", "builds.servers.networks",
    ]

    /// Environment variables the seed names itself; read without the `ARROW_` prefix.
    public static let seedEnvironmentNames: Set<String> = [
        "B2_BUCKET", "B2_PUBLIC_BUCKET", "B2_KEY_ID", "B2_APP_KEY", "B2_ENDPOINT", "B2_REGION",
        "GITHUB_VM_IMAGING_WEBHOOK_URL", "GITHUB_VM_IMAGING_WEBHOOK_SECRET",
    ]

    /// Resolves the configuration from flags, environment, an optional YAML file and the defaults.
    /// - Parameters:
    ///   - flags: values given on the command line, by key (e.g. `["port": "9000"]`).
    ///   - environment: the process environment.
    ///   - configFile: a YAML file; when nil, `ARROW_CONFIG` may name one. A named file must exist.
    /// - Throws: ``ConfigurationError`` naming the key and the bad value.
    public static func load(
        flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil
    ) async throws -> AppConfiguration {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map {
                (AbsoluteConfigKey(ConfigKey($0.key)), ConfigValue(.string($0.value), isSecret: false))
            })),
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { $0.key.hasPrefix("ARROW_") },
                secretsSpecifier: .dynamic { name, _ in name.contains("URL") || name.contains("PASSWORD") }
            ).prefixKeys(with: "arrow"),
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { seedEnvironmentNames.contains($0.key) },
                secretsSpecifier: .dynamic { name, _ in name.contains("KEY") || name.contains("SECRET") }),
        ]
        if let file = configFile ?? environment["ARROW_CONFIG"], !file.isEmpty {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigurationError("Cannot read config file \(file): \(error)")
            }
        }
        return try AppConfiguration(reader: ConfigReader(providers: providers))
    }

    /// Reads every key of ``keys`` from `reader`, keeping the default where a key is absent.
    public init(reader: ConfigReader) throws {
        self.init()
        if let v = reader.string(forKey: "host") { host = v }
        if let v = reader.string(forKey: "port") { port = try Self.integer(v, key: "port", range: 0...65535) }
        if let v = reader.string(forKey: "data.dir") { dataDirectory = v }
        if let v = reader.string(forKey: "database.url", isSecret: true), !v.isEmpty {
            guard v.hasPrefix("postgres://") || v.hasPrefix("postgresql://") else {
                throw ConfigurationError("database.url (ARROW_DATABASE_URL) must start with postgres://")
            }
            databaseURL = v
        }
        if let v = reader.string(forKey: "database.connections") {
            databaseConnections = try Self.integer(v, key: "database.connections", range: 1...64)
        }
        if let v = reader.string(forKey: "log.level") {
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw ConfigurationError("log.level must be one of trace, debug, info, notice, warning, error, critical; got '\(v)'")
            }
            logLevel = level
        }
        if let v = reader.string(forKey: "bcrypt.cost") { bcryptCost = try Self.integer(v, key: "bcrypt.cost", range: 4...31) }
        if let v = reader.string(forKey: "session.lifetime") {
            sessionLifetime = try Self.integer(v, key: "session.lifetime", range: 60...(90 * 86400))
        }
        if let v = reader.string(forKey: "public.url"), !v.isEmpty { publicURL = v }
        s3 = try Self.s3(reader)
        if let v = reader.string(forKey: "auth.cache.ttl") { authCacheTTL = try Self.decimal(v, key: "auth.cache.ttl", range: 0...60) }
        if let v = reader.string(forKey: "server.idle.timeout") {
            connectionLimits.idleTimeout = try Self.decimal(v, key: "server.idle.timeout", range: 1...3600)
        }
        if let v = reader.string(forKey: "server.header.timeout") {
            connectionLimits.headerTimeout = try Self.decimal(v, key: "server.header.timeout", range: 1...600)
        }
        if let v = reader.string(forKey: "server.body.min.rate") {
            connectionLimits.minimumBodyRate = try Self.integer(v, key: "server.body.min.rate", range: 0...(1 << 30))
        }
        if let v = reader.string(forKey: "server.max.connections") {
            connectionLimits.maxConnections = try Self.integer(v, key: "server.max.connections", range: 16...1_000_000)
        }
        if let v = reader.string(forKey: "github.vm.imaging.webhook.url"), !v.isEmpty {
            guard v.hasPrefix("https://") || v.hasPrefix("http://") else {
                throw ConfigurationError("GITHUB_VM_IMAGING_WEBHOOK_URL must be an http(s) URL, e.g. https://api.github.com/repos/OWNER/REPO/dispatches")
            }
            githubWebhookURL = v
        }
        if let v = reader.string(forKey: "github.vm.imaging.webhook.secret", isSecret: true), !v.isEmpty { githubWebhookSecret = Redacted(v) }
        if let v = reader.string(forKey: "builds.lease.seconds") { queue.leaseSeconds = try Self.integer(v, key: "builds.lease.seconds", range: 1...86400) }
        if let v = reader.string(forKey: "builds.heartbeat.interval") {
            queue.heartbeatInterval = try Self.integer(v, key: "builds.heartbeat.interval", range: 1...3600)
        }
        if let v = reader.string(forKey: "builds.lease.losses") { queue.maxLeaseLosses = try Self.integer(v, key: "builds.lease.losses", range: 0...100) }
        if let v = reader.string(forKey: "builds.sweep.interval") { sweepInterval = try Self.decimal(v, key: "builds.sweep.interval", range: 0.1...3600) }
        if let v = reader.string(forKey: "builds.servers.networks") { buildServerNetworks = try Self.networks(v, key: "builds.servers.networks") }
        if let v = reader.string(forKey: "templates.interval") { templateInterval = try Self.decimal(v, key: "templates.interval", range: 0.1...3600) }
        if let v = reader.string(forKey: "secrets.key", isSecret: true), !v.isEmpty {
            guard let bytes = Data(base64Encoded: v), bytes.count == 32 else {
                throw ConfigurationError("ARROW_SECRETS_KEY must be 32 bytes in base64 (e.g. the output of: head -c 32 /dev/urandom | base64)")
            }
            secretsKey = Redacted(bytes)
        }
        if let v = reader.string(forKey: "webhooks.allow.private") { allowPrivateWebhooks = v == "true" || v == "1" }
        if let v = reader.string(forKey: "uploads.per.hour") {
            uploadLimits.uploadsPerHour = try Self.integer(v, key: "uploads.per.hour", range: 0...100_000)
        }
    }

    /// B2/S3 settings: all of them when `B2_BUCKET` is set, none otherwise.
    static func s3(_ reader: ConfigReader) throws -> S3Configuration? {
        guard let bucket = reader.string(forKey: "b2.bucket"), !bucket.isEmpty else { return nil }
        var missing: [String] = []
        func required(_ key: String, _ name: String, secret: Bool = false) -> String {
            let value = reader.string(forKey: ConfigKey(key), isSecret: secret) ?? ""
            if value.isEmpty { missing.append(name) }
            return value
        }
        let endpoint = required("b2.endpoint", "B2_ENDPOINT")
        let region = required("b2.region", "B2_REGION")
        let keyID = required("b2.key.id", "B2_KEY_ID")
        let appKey = required("b2.app.key", "B2_APP_KEY", secret: true)
        guard missing.isEmpty else {
            throw ConfigurationError("B2_BUCKET is set, so object storage is B2/S3, but \(missing.joined(separator: ", ")) missing")
        }
        guard endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://") else {
            throw ConfigurationError("B2_ENDPOINT must be an http(s) URL, e.g. https://s3.us-west-004.backblazeb2.com")
        }
        let pathStyle = reader.string(forKey: "storage.path.style").map { $0 != "false" && $0 != "0" } ?? true
        return S3Configuration(
            endpoint: endpoint, region: region, bucket: bucket, publicBucket: reader.string(forKey: "b2.public.bucket"),
            accessKeyID: keyID, secretAccessKey: appKey, pathStyle: pathStyle)
    }

    static func networks(_ text: String, key: String) throws -> [IPNetwork] {
        do { return try IPNetwork.list(text) } catch { throw ConfigurationError("\(key): \(error)") }
    }

    static func decimal(_ text: String, key: String, range: ClosedRange<Double>) throws -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError("\(key) must be a number from \(range.lowerBound) to \(range.upperBound); got '\(text)'")
        }
        return value
    }

    static func integer(_ text: String, key: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound); got '\(text)'")
        }
        return value
    }
}
