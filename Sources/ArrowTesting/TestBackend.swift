import ArrowApp
import ArrowDatabase
import Foundation
import Logging
import SQLKit

/// The database backends every contract suite runs against. PostgreSQL is never skipped silently: without
/// `ARROW_TEST_POSTGRES_URL` (set by `scripts/test.sh`, which starts a cluster) its cases fail with a message
/// saying how to run them.
public enum TestBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// A configuration pointing at a new, empty database of this backend (and a new data directory).
    public func freshConfiguration() async throws -> AppConfiguration {
        var config = AppConfiguration()
        config.dataDirectory = try TestPaths.temporaryDirectory()
        config.bcryptCost = 4
        config.databaseConnections = 2
        if self == .postgres {
            config.databaseURL = try await TestPostgres.createDatabase()
        }
        return config
    }
}

public enum TestPaths {
    /// A new empty directory under this test process's own directory in the system's temporary directory.
    public static func temporaryDirectory() throws -> String {
        let path = root + "/" + UUID().uuidString.prefix(12)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// `arrow-test-<pid>` in the temporary directory, removed when the process exits (unless `ARROW_TEST_KEEP=1`, for
    /// looking at a failure): every test's databases, data directories and images are under it, so a run of plain
    /// `swift test` leaves nothing behind in `/tmp`.
    static let root: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("arrow-test-\(getpid())").path
        if ProcessInfo.processInfo.environment["ARROW_TEST_KEEP"] != "1" {
            atexit { try? FileManager.default.removeItem(atPath: TestPaths.root) }
        }
        return path
    }()
}

/// Creates throwaway databases in the test cluster.
public enum TestPostgres {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "ARROW_TEST_POSTGRES_URL is not set: run the suite with scripts/test.sh, which starts PostgreSQL, or point it at a cluster"
        }
    }

    /// The admin URL of the test cluster, e.g. `postgres://arrow@127.0.0.1:54329/postgres`.
    public static func adminURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["ARROW_TEST_POSTGRES_URL"], !url.isEmpty else { throw NotConfigured() }
        return url
    }

    /// Creates a new database and returns its URL.
    public static func createDatabase() async throws -> String {
        let admin = try adminURL()
        let name = "arrow_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let client = try DatabaseClient.open(
            DatabaseConfiguration(kind: .postgres(url: admin), connectionsPerEventLoop: 1), logger: Logger(label: "test"))
        do {
            try await client.sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
        guard let slash = admin.lastIndex(of: "/") else { throw NotConfigured() }
        let base = admin[..<slash]
        let query = admin[slash...].firstIndex(of: "?").map { String(admin[$0...]) } ?? ""
        return "\(base)/\(name)\(query)"
    }
}
