@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// Opens SQLite connections with the settings a server needs: WAL (readers never block the writer), a short busy
/// timeout (see ``SQLiteBusy``), foreign keys, and `synchronous=NORMAL` (durable in WAL mode).
struct SQLiteFileSource: ConnectionPoolSource {
    let path: String

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        SQLiteConnection.open(storage: .file(path: path), threadPool: .singleton, logger: logger, on: eventLoop)
            .flatMap { connection in
                let pragmas = ["PRAGMA busy_timeout = \(SQLiteBusy.sqliteTimeoutMilliseconds)", "PRAGMA journal_mode = WAL",
                               "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"]
                return pragmas.reduce(eventLoop.makeSucceededVoidFuture()) { chain, pragma in
                    chain.flatMap { connection.query(pragma).map { _ in } }
                }.map { connection }.flatMapError { error in
                    // A pragma can fail (BUSY while another connection holds the lock WAL needs): close the handle
                    // rather than drop it open, then report the failure to the pool.
                    connection.close().flatMapThrowing { throw error }
                }
            }
    }
}

/// An `SQLDatabase` over a pool of SQLite connections: each statement borrows a connection, and a session pins one.
struct SQLitePoolDatabase: SQLDatabase {
    let pool: EventLoopGroupConnectionPool<SQLiteFileSource>
    let logger: Logger

    var eventLoop: any EventLoop { pool.eventLoopGroup.any() }
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { .trace }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await execute(sql: query, onRow) }
    }

    /// Autocommit statements: a BUSY answer means nothing ran, so they are retried (suspended, not blocking).
    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await SQLiteBusy.retrying {
            try await pool.withConnection(logger: logger) { connection in
                connection.sql(queryLogLevel: .trace).execute(sql: query, onRow)
            }.get()
        }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        // Opening a connection runs the setup pragmas, which can answer BUSY while another process holds the lock
        // (two servers migrating one fresh file); the failed connection was closed, so asking again is safe.
        let connection = try await SQLiteBusy.retrying { try await pool.requestConnection(logger: logger).get() }
        defer { pool.releaseConnection(connection, logger: logger) }
        return try await closure(connection.sql(queryLogLevel: .trace))
    }
}
