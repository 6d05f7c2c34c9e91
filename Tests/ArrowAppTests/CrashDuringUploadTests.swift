import ArrowCore
import ArrowDatabase
import ArrowTesting
import Foundation
import Logging
import SQLKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of the server in the middle of a single upload, then a restart: the half-uploaded image's row and its
/// staging bytes are gone at start-up, on SQLite and on PostgreSQL.
@Suite(.serialized) struct CrashDuringUploadTests {
    static func uploadingRows(_ environment: [String: String], dataDir: String) async throws -> Int {
        let kind: DatabaseConfiguration.Kind = environment["ARROW_DATABASE_URL"].map { .postgres(url: $0) }
            ?? .sqlite(path: dataDir + "/arrow.sqlite")
        let client = try DatabaseClient.open(DatabaseConfiguration(kind: kind, connectionsPerEventLoop: 1), logger: Logger(label: "t"))
        do {
            let rows = try await client.sql.raw("SELECT id FROM images WHERE status = 'uploading'").all()
            try await client.shutdown()
            return rows.count
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func staged(_ dataDir: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dataDir + "/storage/.staging")) ?? []
    }

    @Test(arguments: TestBackend.allCases)
    func aServerKilledMidUploadLeavesNothingAfterARestart(_ backend: TestBackend) async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        var environment = ["ARROW_DATA_DIR": dataDir]
        if backend == .postgres { environment["ARROW_DATABASE_URL"] = try await TestPostgres.createDatabase() }
        let (status, out, _) = try ArrowProcess.run(["admin", "init", "--email", "root@arrow.test", "--password-stdin"],
                                                    environment: environment, stdin: "rootpassword\n")
        try #require(status == 0)
        let token = try #require(out.split(separator: "\n").last.map(String.init))
        let port = HTTP.freePort()
        let server = try ArrowProcess(["serve", "--port", String(port)], environment: environment)
        #expect(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))

        // A 40 MiB upload sent at 4 MiB/s: killed well before the end.
        let file = try TestPaths.temporaryDirectory() + "/big.raw"
        try Data(testBytes(40 << 20)).write(to: URL(fileURLWithPath: file))
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "/dev/null", "--limit-rate", "4M", "-H", "Authorization: Bearer \(token)",
                          "-F", "name=killed", "-F", "file=@\(file);filename=big.raw", "http://127.0.0.1:\(port)/api/vm_images/upload"]
        try curl.run()
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await Self.uploadingRows(environment, dataDir: dataDir) == 1, "the upload should be under way")
        #expect(!Self.staged(dataDir).isEmpty, "the upload should be staging bytes")
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        curl.waitUntilExit()
        #expect(try await Self.uploadingRows(environment, dataDir: dataDir) == 1, "the killed server left its row")

        let restarted = try ArrowProcess(["serve", "--port", String(port)], environment: environment)
        #expect(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try await Self.uploadingRows(environment, dataDir: dataDir) > 0 || !Self.staged(dataDir).isEmpty {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await Self.uploadingRows(environment, dataDir: dataDir) == 0, "the dead process's upload row is still there")
        #expect(Self.staged(dataDir).isEmpty, "staging files left: \(Self.staged(dataDir))")
        let listed = await HTTP.send("GET", "http://127.0.0.1:\(port)/api/vm_images?status=uploading", token: token)
        #expect(listed?.0 == 200)
        #expect(listed.map { String(decoding: $0.2, as: UTF8.self) }?.contains("\"items\":[]") == true)
        let (exit, _) = try restarted.terminate()
        #expect(exit == 0)
    }
}
