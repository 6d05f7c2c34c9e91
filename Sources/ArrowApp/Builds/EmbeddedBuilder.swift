import ArrowBuilder
import ArrowClient
import ArrowCore
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// `arrow serve --with-builder`: one builder inside the server process, for the embedded default. It talks to its
/// own server over loopback HTTP, exactly as a separate `arrow builder` would, as a global builder service account
/// whose token is kept in the data directory (mode 0600) across restarts. On shutdown it finishes the build in
/// progress first.
struct EmbeddedBuilder: Service {
    let config: AppConfiguration
    let backends: Backends
    let settings: BuilderSettings
    let logger: Logger

    func run() async throws {
        let token = try await Self.token(config, backends)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await http.shutdown() } }
        let api = APIClient(baseURL: "http://127.0.0.1:\(config.port)", token: token, http: http)
        let worker = BuildWorker(api: api, settings: settings, http: http) { [logger] line in
            logger.info("\(line)", metadata: ["component": "builder"])
        }
        let lock = try await worker.takeWorkDirectory()
        let drain = BuildWorker.Drain()
        logger.info("embedded builder running", metadata: ["work": .string(settings.workDirectory), "cache": .string(settings.cacheDirectory)])
        await withGracefulShutdownHandler {
            _ = await worker.run(once: false, drain: drain)
        } onGracefulShutdown: {
            drain.request()
        }
        withExtendedLifetime(lock) {}
    }

    /// The embedded builder's token: the one in the data directory while it still authenticates, else a new
    /// service account's.
    static func token(_ config: AppConfiguration, _ backends: Backends) async throws -> String {
        let path = config.dataDirectory + "/embedded-builder.token"
        if let saved = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           (try? await backends.identity.authenticate(secret: saved)) != nil {
            return saved
        }
        let (_, issued) = try await backends.identity.createServiceAccount(name: "embedded-builder", organization: nil, actor: nil)
        guard FileManager.default.createFile(atPath: path, contents: Data(issued.secret.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("Cannot write \(path)")
        }
        return issued.secret
    }
}
