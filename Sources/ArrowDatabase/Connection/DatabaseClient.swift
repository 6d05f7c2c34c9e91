@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// An open database: a pooled `SQLDatabase` plus what differs between the dialects.
///
/// Queries on ``sql`` take any pooled connection; ``transaction(_:)`` pins one connection for its duration.
public final class DatabaseClient: Sendable {
    public let dialect: SQLDialectKind
    public let sql: any SQLDatabase
    /// One write transaction at a time per process on SQLite (it has one writer anyway); unused on PostgreSQL.
    private let writerLock = AsyncLock()
    private let shutdownPool: @Sendable () async throws -> Void
    /// PostgreSQL's connection settings, for connections held outside the pool (``listener(channel:logger:)``).
    private let postgres: PostgresConnection.Configuration?
    /// The SQLite file, for locks that must span every client of one file in this process.
    let sqlitePath: String?

    private init(
        dialect: SQLDialectKind, sql: any SQLDatabase, postgres: PostgresConnection.Configuration? = nil, sqlitePath: String? = nil,
        shutdown: @escaping @Sendable () async throws -> Void
    ) {
        self.sqlitePath = sqlitePath
        self.postgres = postgres
        self.dialect = dialect
        self.sql = sql
        self.shutdownPool = shutdown
    }

    /// Opens a pool for `configuration`. Nothing connects until the first query.
    /// - Throws: ``DatabaseError`` `connection` for a malformed PostgreSQL URL.
    public static func open(_ configuration: DatabaseConfiguration, logger serverLogger: Logger) throws -> DatabaseClient {
        let logger = driverLogger(serverLogger)
        let group = MultiThreadedEventLoopGroup.singleton
        switch configuration.kind {
        case .sqlite(let path):
            let pool = EventLoopGroupConnectionPool(
                source: SQLiteFileSource(path: path),
                maxConnectionsPerEventLoop: configuration.connectionsPerEventLoop,
                logger: logger, on: group)
            return DatabaseClient(dialect: .sqlite, sql: SQLitePoolDatabase(pool: pool, logger: logger), sqlitePath: path) {
                try await pool.shutdownAsync()
            }
        case .postgres(let url):
            let config: SQLPostgresConfiguration
            do {
                config = try SQLPostgresConfiguration(url: url)
            } catch {
                throw DatabaseError(.connection, "ARROW_DATABASE_URL is not a valid postgres:// URL", cause: error)
            }
            let pool = EventLoopGroupConnectionPool(
                source: PostgresConnectionSource(sqlConfiguration: config),
                maxConnectionsPerEventLoop: configuration.connectionsPerEventLoop,
                logger: logger, on: group)
            return DatabaseClient(dialect: .postgres, sql: pool.database(logger: logger).sql(queryLogLevel: nil), postgres: config.coreConfiguration) {
                try await pool.shutdownAsync()
            }
        }
    }

    /// A listener for PostgreSQL notifications on `channel`, on a connection of its own; nil on SQLite, which has
    /// no other process to hear from.
    public func listener(channel: String, logger: Logger) -> NotificationListener? {
        postgres.map { NotificationListener(configuration: $0, channel: channel, logger: Self.driverLogger(logger)) }
    }

    /// The drivers' logger: never below `info`. Below it, the drivers log SQL with its bound parameters (token
    /// digests, password hashes) and, for PostgreSQL, every protocol message with the rows it carries; a server run
    /// at `trace` must not write those credentials to its log. Queries are not logged for the same reason.
    static func driverLogger(_ logger: Logger) -> Logger {
        var logger = logger
        if logger.logLevel < .info { logger.logLevel = .info }
        return logger
    }

    /// Runs `body` inside one transaction on one connection: committed on return, rolled back on a throw.
    ///
    /// On SQLite, transactions of this process queue on an async lock and take the write lock up front
    /// (`BEGIN IMMEDIATE`, retried while another process holds it), so writers wait without deadlocking.
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        guard dialect == .sqlite else { return try await run(transaction: body, begin: "BEGIN") }
        return try await writerLock.withLock { try await self.run(transaction: body, begin: "BEGIN IMMEDIATE") }
    }

    private func run<R: Sendable>(transaction body: @escaping @Sendable (any SQLDatabase) async throws -> R, begin: String) async throws -> R {
        try await sql.withSession { session in
            try await SQLiteBusy.retrying { try await session.raw(SQLQueryString(begin)).run() }
            do {
                let result = try await body(session)
                try await session.raw("COMMIT").run()
                return result
            } catch {
                try? await session.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Closes every pooled connection.
    public func shutdown() async throws {
        try await shutdownPool()
    }
}
