@testable import ArrowDatabase
import ArrowTesting
import Logging
import NIOPosix
import SQLiteKit
import Testing

@Suite struct SQLiteConnectionSourceTests {
    /// When a setup pragma fails (here: WAL needs a lock another connection holds), the new connection is closed,
    /// not dropped open; a dropped handle leaks, and trips SQLiteNIO's assertion in debug builds.
    @Test func aConnectionWhosePragmasFailIsClosed() async throws {
        let path = try TestPaths.temporaryDirectory() + "/locked.sqlite"
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let holder = try await SQLiteConnection.open(storage: .file(path: path), threadPool: .singleton, logger: Logger(label: "t"), on: loop).get()
        _ = try await holder.query("CREATE TABLE t (x INTEGER)").get()
        _ = try await holder.query("BEGIN EXCLUSIVE").get()
        await #expect(throws: (any Error).self) {
            _ = try await SQLiteFileSource(path: path).makeConnection(logger: Logger(label: "t"), on: loop).get()
        }
        _ = try await holder.query("COMMIT").get()
        try await holder.close().get()
        // Once the lock is gone, the same source opens connections normally.
        let connection = try await SQLiteFileSource(path: path).makeConnection(logger: Logger(label: "t"), on: loop).get()
        try await connection.close().get()
    }
}
