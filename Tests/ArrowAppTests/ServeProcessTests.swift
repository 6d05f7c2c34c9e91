import ArrowApp
import ArrowDatabase
import ArrowTesting
import Foundation
import Logging
import SQLKit
import Testing

/// The real binary, as an operator runs it.
@Suite(.serialized) struct ServeProcessTests {
    @Test func twoServersStartedAtOnceOnAFreshPostgresShareOneMigrationHistory() async throws {
        let url = try await TestPostgres.createDatabase()
        let ports = [HTTP.freePort(), HTTP.freePort()]
        let servers = try ports.map { port in
            try ArrowProcess(["serve", "--port", String(port)], environment: ["ARROW_DATABASE_URL": url])
        }
        for port in ports {
            #expect(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"), "server on \(port) never became ready")
        }
        let client = try DatabaseClient.open(DatabaseConfiguration(kind: .postgres(url: url), connectionsPerEventLoop: 1), logger: Logger(label: "t"))
        let history = try await Migrator(client: client, logger: Logger(label: "t")).history()
        try await client.shutdown()
        #expect(history.map(\.0) == Migrations.all.map(\.version))
        for server in servers {
            let (status, _) = try server.terminate()
            #expect(status == 0, "SIGTERM should shut down gracefully with status 0")
        }
    }

    @Test func adminInitThenServeOnSQLiteWithTheEmbeddedDefaults() async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        let (status, out, _) = try ArrowProcess.run(
            ["admin", "init", "--data-dir", dataDir, "--email", "root@arrow.test", "--password-stdin"], stdin: "s3cret-password\n")
        #expect(status == 0)
        let token = try #require(out.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("arw_"))

        let (again, _, err) = try ArrowProcess.run(["admin", "init", "--data-dir", dataDir, "--email", "x@arrow.test", "--password", "password123"])
        #expect(again == 3)
        #expect(err.contains("already_initialized"))

        let port = HTTP.freePort()
        let server = try ArrowProcess(["serve", "--port", String(port), "--data-dir", dataDir, "--log-level", "debug"])
        #expect(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))
        let me = await HTTP.get("http://127.0.0.1:\(port)/api/me", token: token)
        #expect(me?.0 == 200)
        #expect(me?.1.contains("root@arrow.test") == true)
        #expect(await HTTP.get("http://127.0.0.1:\(port)/api/me", token: token + "x")?.0 == 401)
        let (exit, logs) = try server.terminate()
        #expect(exit == 0)
        #expect(FileManager.default.fileExists(atPath: dataDir + "/arrow.sqlite"))
        // Secrets never reach the logs, even at debug level.
        #expect(!logs.contains(token))
        #expect(!logs.contains("s3cret-password"))
    }

    @Test func badConfigurationIsAClearErrorNotACrash() throws {
        let (status, _, err) = try ArrowProcess.run(["serve"], environment: ["ARROW_PORT": "eighty"])
        #expect(status != 0)
        #expect(err.contains("port"))
        let (dbStatus, _, dbErr) = try ArrowProcess.run(["serve"], environment: ["ARROW_DATABASE_URL": "mysql://nope"])
        #expect(dbStatus != 0)
        #expect(dbErr.contains("postgres://"))
    }

    @Test func everyCommandHasHelp() throws {
        for command in [[], ["serve"], ["admin"], ["admin", "init"], ["admin", "org", "create"], ["admin", "user", "create"],
                        ["admin", "token", "create"], ["admin", "token", "revoke"], ["admin", "service-account", "create"]] {
            let (status, out, _) = try ArrowProcess.run(command + ["--help"])
            #expect(status == 0, "\(command) --help failed")
            #expect(out.contains("USAGE"), "\(command) --help printed no usage")
        }
    }
}
