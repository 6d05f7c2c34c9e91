import ArrowCore
import ArrowStorage
import ArrowTesting
import Crypto
import Foundation
import Testing

/// `arrow serve --log-level trace` taken through login (right and wrong passwords), token creation, user creation, a
/// single upload, a multipart upload's presigned parts and a download, on SQLite with the local store and on
/// PostgreSQL (a URL with a password) with S3: no secret appears in the whole log in any spelling.
@Suite(.serialized) struct SecretsInLogsTests {
    enum Setup: String, CaseIterable, CustomStringConvertible {
        case sqliteLocal, postgresS3
        var description: String { rawValue }
    }

    /// Every way a secret could be written: as text, hex, base64, and Swift's byte-array form.
    static func spellings(of bytes: [UInt8]) -> [String] {
        let hex = Hex.string(bytes)
        return [hex, hex.uppercased(), Data(bytes).base64EncodedString(), "\(bytes)", bytes.map(String.init).joined(separator: ", ")]
    }

    static func spellings(of text: String) -> [String] {
        [text, Data(text.utf8).base64EncodedString(), Hex.string(Array(text.utf8))] + spellings(of: Array(SHA256.hash(data: Data(text.utf8))))
    }

    @Test(arguments: Setup.allCases)
    func noSecretReachesTheLogAtTrace(_ setup: Setup) async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        let dbPassword = "Db-Pa55-\(UUID().uuidString.prefix(8))"
        var environment: [String: String] = ["ARROW_DATA_DIR": dataDir]
        var secrets: [(String, String)] = [("database password", dbPassword)]
        if setup == .postgresS3 {
            let url = try await TestPostgres.createDatabase()
            environment["ARROW_DATABASE_URL"] = url.replacingOccurrences(of: "postgres://arrow@", with: "postgres://arrow:\(dbPassword)@")
            let s3 = try StorageBackend.s3Configuration()
            environment.merge(["B2_BUCKET": s3.bucket, "B2_ENDPOINT": s3.endpoint, "B2_REGION": s3.region, "B2_KEY_ID": s3.accessKeyID,
                               "B2_APP_KEY": s3.secretAccessKey]) { $1 }
            secrets.append(("S3 secret", s3.secretAccessKey))
        }
        let rootPassword = "root-Pa55-\(UUID().uuidString.prefix(6))"
        let (status, out, err) = try ArrowProcess.run(["admin", "init", "--email", "root@arrow.test", "--password-stdin"],
                                                      environment: environment, stdin: rootPassword + "\n")
        try #require(status == 0, "\(err)")
        let bootstrapToken = try #require(out.split(separator: "\n").last.map(String.init))
        secrets += [("root password", rootPassword), ("bootstrap token", bootstrapToken)]

        let port = HTTP.freePort()
        let base = "http://127.0.0.1:\(port)"
        let logFile = dataDir + "/serve.log"
        let server = try ArrowProcess(["serve", "--port", String(port), "--log-level", "trace"], environment: environment, stderrFile: logFile)
        #expect(await HTTP.waitUntilReady("\(base)/readyz"))

        // Login, a wrong password, a token, a user with a password.
        _ = await HTTP.send("POST", "\(base)/api/auth/login", json: #"{"email":"root@arrow.test","password":"wrong-\#(rootPassword)"}"#)
        secrets.append(("wrong password", "wrong-\(rootPassword)"))
        let login = try #require(await HTTP.send("POST", "\(base)/api/auth/login", json: #"{"email":"root@arrow.test","password":"\#(rootPassword)"}"#))
        let session = try #require(Self.string(login.2, "token"))
        let created = try #require(await HTTP.send("POST", "\(base)/api/tokens", token: session, json: #"{"name":"ci","scopes":["image.read"]}"#))
        let apiToken = try #require(Self.string(created.2, "token"), "\(String(decoding: created.2, as: UTF8.self))")
        let userPassword = "user-Pa55-\(UUID().uuidString.prefix(6))"
        let orgs = try #require(await HTTP.send("GET", "\(base)/api/organizations", token: session))
        let org = try #require(((try JSONSerialization.jsonObject(with: orgs.2) as? [String: Any])?["items"] as? [[String: Any]])?.first?["id"] as? String)
        let user = await HTTP.send("POST", "\(base)/api/organizations/\(org)/users", token: session,
                                   json: #"{"email":"u@arrow.test","password":"\#(userPassword)","role":"admin"}"#)
        #expect(user?.0 == 201)
        secrets += [("session token", session), ("API token", apiToken), ("user password", userPassword)]

        // A single upload, a multipart session with presigned parts, a download through a presigned URL.
        let boundary = "b-\(UUID().uuidString)"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nlogged\r\n".utf8)
        form += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.raw\"\r\n\r\n".utf8)
        form += Data(testBytes((1 << 20) + 512)) + Data("\r\n--\(boundary)--\r\n".utf8)
        let upload = try #require(await HTTP.send("POST", "\(base)/api/vm_images/upload", token: session, body: form,
                                                  contentType: "multipart/form-data; boundary=\(boundary)"))
        #expect(upload.0 == 201, "\(String(decoding: upload.2, as: UTF8.self))")
        let image = try #require(Self.string(upload.2, "id"))
        let download = await HTTP.send("GET", "\(base)/api/vm_images/\(image)/download", token: session)
        #expect(download?.0 == 302)
        let sign = await HTTP.send("POST", "\(base)/api/vm_images/upload/sign", token: session,
                                   json: #"{"file_name":"m.raw","file_size":20971520,"name":"multipart"}"#)
        #expect(sign?.0 == 201)

        // A ClientConfig with a VPN setup key and a password hash, read back; a webhook, whose secret is answered once.
        let setupKey = "NB-SETUP-\(UUID().uuidString.prefix(12))"
        let passwordHash = "$6$saltsalt$\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        let config = await HTTP.send("PUT", "\(base)/api/organizations/\(org)/client-config", token: session,
                                     json: #"{"vpn_config":{"setup_key":"\#(setupKey)"},"users":[{"name":"ops","password_hash":"\#(passwordHash)"}]}"#)
        #expect(config?.0 == 200, "\(config.map { String(decoding: $0.2, as: UTF8.self) } ?? "")")
        _ = await HTTP.send("GET", "\(base)/api/organizations/\(org)/client-config", token: session)
        let hook = try #require(await HTTP.send("POST", "\(base)/api/organizations/\(org)/webhooks", token: session,
                                                json: #"{"url":"https://hooks.example.org/logged"}"#))
        let hookSecret = try #require(Self.string(hook.2, "secret"), "\(String(decoding: hook.2, as: UTF8.self))")
        secrets += [("VPN setup key", setupKey), ("password hash", passwordHash), ("webhook secret", hookSecret)]

        let (exit, _) = try server.terminate()
        #expect(exit == 0)
        let log = try String(contentsOfFile: logFile, encoding: .utf8)
        #expect(log.contains("trace") || log.contains("debug"), "the server should have logged at trace")

        // Secrets the server holds: the local store's signing key, bcrypt hashes and token digests in its database.
        if let signingKey = FileManager.default.contents(atPath: dataDir + "/storage.secret") {
            for spelling in Self.spellings(of: [UInt8](signingKey)) { secrets.append(("storage signing key", spelling)) }
        }
        if let sealingKey = FileManager.default.contents(atPath: dataDir + "/secrets.key") {
            for spelling in Self.spellings(of: [UInt8](sealingKey)) { secrets.append(("secrets sealing key", spelling)) }
        }
        var candidates: [(String, String)] = []
        for (name, secret) in secrets {
            for spelling in Self.spellings(of: secret) { candidates.append((name, spelling)) }
        }
        for (name, spelling) in candidates where log.contains(spelling) {
            Issue.record("\(setup): the \(name) appears in the log as \(spelling.prefix(12))…")
        }
        // bcrypt hashes all start with $2b$; token digests are 64 hex digits.
        #expect(!log.contains("$2b$"), "a bcrypt hash appears in the log")
    }

    static func string(_ data: Data, _ key: String) -> String? {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?[key] as? String
    }
}
