import Logging
import SQLKit
import Synchronization

/// One lock per SQLite file for this process's migrators: clients of one file in one process migrate one after
/// another instead of spinning on BUSY (each BUSY wait holds a thread of the shared blocking pool, which under load
/// starved the migrator holding the lock). Other processes are still kept apart by `BEGIN IMMEDIATE`.
private let sqliteMigrationLocks = Mutex<[String: AsyncLock]>([:])

/// Applies pending migrations at start-up, all in one transaction.
///
/// Safe when several servers start at once against one PostgreSQL: each takes a transaction-scoped advisory lock
/// first, so one applies the migrations and the others then find nothing left to do. On SQLite `BEGIN IMMEDIATE`
/// gives the same serialisation.
public struct Migrator: Sendable {
    /// An arbitrary constant naming our advisory lock ("arrow" in ASCII).
    static let advisoryLockKey: Int64 = 0x6172_726F_77

    public let client: DatabaseClient
    public let migrations: [Migration]
    public let logger: Logger

    public init(client: DatabaseClient, migrations: [Migration] = Migrations.all, logger: Logger) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies what is missing and returns the versions it applied (empty when up to date).
    /// - Throws: ``DatabaseError`` `migration` when the database is newer than this binary or a step fails.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let dialect = client.dialect
        let migrations = self.migrations
        let applied: [Int]
        do {
            // On SQLite the whole transaction is tried again while it meets BUSY: on a brand-new file, migrators of
            // other processes race to switch it to WAL, and a statement can be refused before WAL is in place. The
            // transaction rolled back, so trying again is safe.
            let fileLock = client.sqlitePath.map { path in
                sqliteMigrationLocks.withLock { locks in
                    if let lock = locks[path] { return lock }
                    let lock = AsyncLock()
                    locks[path] = lock
                    return lock
                }
            }
            let run = { @Sendable () async throws -> [Int] in try await SQLiteBusy.retrying { try await client.transaction { db in
                if dialect == .postgres {
                    try await db.raw("SELECT pg_advisory_xact_lock(\(literal: Self.advisoryLockKey))").run()
                }
                try await db.raw("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                    """).run()
                let done = Set(try await db.raw("SELECT version FROM schema_migrations").all()
                    .map { try $0.decode(column: "version", as: Int.self) })
                let known = Set(migrations.map(\.version))
                if let unknown = done.subtracting(known).max() {
                    throw DatabaseError(.migration, "The database has schema version \(unknown), newer than this binary knows; upgrade arrow")
                }
                var applied: [Int] = []
                for migration in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(migration.version) {
                    for statement in migration.statements(dialect) {
                        try await db.raw(SQLQueryString(statement)).run()
                    }
                    try await db.insert(into: "schema_migrations")
                        .columns("version", "name", "applied_at")
                        .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Timestamp.now()))
                        .run()
                    applied.append(migration.version)
                }
                return applied
            } } }
            if let fileLock { applied = try await fileLock.withLock(run) } else { applied = try await run() }
        } catch let error as DatabaseError {
            throw error
        } catch {
            throw DatabaseError(.migration, "Applying migrations failed", cause: error)
        }
        if !applied.isEmpty {
            logger.info("applied migrations", metadata: ["db.migrations": .string(applied.map(String.init).joined(separator: ","))])
        }
        return applied
    }

    /// The applied history, oldest first: `(version, name)`.
    public func history() async throws -> [(Int, String)] {
        try await client.sql.raw("SELECT version, name FROM schema_migrations ORDER BY version").all().map {
            (try $0.decode(column: "version", as: Int.self), try $0.decode(column: "name", as: String.self))
        }
    }
}
