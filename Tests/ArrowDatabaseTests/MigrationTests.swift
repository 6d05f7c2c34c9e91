import ArrowApp
import ArrowDatabase
import ArrowTesting
import Logging
import SQLKit
import Testing

@Suite struct MigrationTests {
    let logger = Logger(label: "test")

    /// Runs `body` on a fresh database and always shuts the pool down (async-kit asserts on a pool left open).
    func withClient(_ backend: TestBackend, _ body: (DatabaseClient) async throws -> Void) async throws {
        let client = try DatabaseClient.open(try await backend.freshConfiguration().database, logger: logger)
        do {
            try await body(client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test(arguments: TestBackend.allCases)
    func migratingTwiceAppliesEachVersionOnce(_ backend: TestBackend) async throws {
        try await withClient(backend) { client in
            let migrator = Migrator(client: client, logger: logger)
            let first = try await migrator.migrate()
            let second = try await migrator.migrate()
            let history = try await migrator.history().map(\.0)
            #expect(first == Migrations.all.map(\.version))
            #expect(second == [])
            #expect(history == Migrations.all.map(\.version))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentMigratorsProduceOneHistory(_ backend: TestBackend) async throws {
        let config = try await backend.freshConfiguration()
        let clients = try (0..<4).map { _ in try DatabaseClient.open(config.database, logger: logger) }
        // The file exists (in WAL mode) before the race: what is under test is the migrations' serialization. Four
        // processes creating one brand-new SQLite file at the same instant can still meet BUSY switching it to WAL.
        _ = try await clients[0].sql.raw("SELECT 1 AS one").first()
        let outcome: Result<[[Int]], any Error>
        do {
            outcome = .success(try await withThrowingTaskGroup(of: [Int].self) { group in
                for client in clients { group.addTask { try await Migrator(client: client, logger: logger).migrate() } }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            })
        } catch {
            outcome = .failure(error)
        }
        let count = try? await clients[0].sql.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()?.decode(column: "n", as: Int.self)
        for client in clients { try await client.shutdown() }
        let applied = try outcome.get()
        // Exactly one migrator applied everything; the others found nothing to do.
        #expect(applied.filter { !$0.isEmpty } == [Migrations.all.map(\.version)])
        #expect(count == Migrations.all.count)
    }

    @Test(arguments: TestBackend.allCases)
    func aDatabaseNewerThanTheBinaryIsRefused(_ backend: TestBackend) async throws {
        try await withClient(backend) { client in
            try await Migrator(client: client, logger: logger).migrate()
            try await client.sql.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)").run()
            let error = await #expect(throws: DatabaseError.self) { try await Migrator(client: client, logger: logger).migrate() }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("9999") == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailingMigrationLeavesNothingApplied(_ backend: TestBackend) async throws {
        try await withClient(backend) { client in
            let broken = Migration(version: 2, name: "broken") { _ in ["CREATE TABLE half_done (id TEXT)", "THIS IS NOT SQL"] }
            await #expect(throws: DatabaseError.self) {
                try await Migrator(client: client, migrations: Migrations.all + [broken], logger: logger).migrate()
            }
            // The transaction rolled back: neither version 1's tables nor the half-done one exist.
            let tables = try await client.sql.raw(
                client.dialect == .postgres
                    ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
                    : "SELECT name FROM sqlite_master WHERE type = 'table'").all().map { try $0.decode(column: "name", as: String.self) }
            #expect(!tables.contains("half_done"))
            #expect(!tables.contains("organizations"))
        }
    }
}

/// A PostgreSQL URL's password never shows when the configuration is described.
@Suite struct DatabaseConfigurationRedactionTests {
    @Test func theURLPasswordIsRedacted() {
        let kind = DatabaseConfiguration.Kind.postgres(url: "postgres://arrow:S3cr%2Ft-pw@db.internal:5432/arrow?sslmode=disable")
        var dumped = ""
        dump(DatabaseConfiguration(kind: kind), to: &dumped)
        for rendering in [String(describing: kind), String(reflecting: kind), "\(DatabaseConfiguration(kind: kind))", dumped] {
            #expect(!rendering.contains("S3cr"), "\(rendering)")
            #expect(rendering.contains("db.internal"), "\(rendering)")
        }
        #expect(String(describing: kind) == "postgres(url: postgres://arrow:<redacted>@db.internal:5432/arrow?sslmode=disable)")
        let query = DatabaseConfiguration.Kind.postgres(url: "postgres://db/arrow?user=a&password=hunter2")
        #expect(!String(describing: query).contains("hunter2"))
    }
}
