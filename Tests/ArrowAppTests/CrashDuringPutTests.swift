import ArrowCore
import ArrowStorage
import ArrowTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` in the middle of a put: nothing may appear under the key, on either store.
@Suite(.serialized) struct CrashDuringPutTests {
    /// Starts `arrow storage put KEY -` fed slowly from a pipe, kills it once some bytes went through, and
    /// returns after it died.
    static func killMidPut(key: String, environment: [String: String], extraArguments: [String] = []) async throws {
        let child = try ArrowProcess(["storage", "put", key, "-"] + extraArguments, environment: environment, keepStdinOpen: true)
        let stdin = try #require(child.stdinPipe)
        // 3 MiB in, then wait while the process is mid-stream, then SIGKILL.
        // The throwing write: if the child died early (no S3 server, say), this test fails instead of the whole run
        // trapping on a broken pipe.
        for _ in 0..<3 { try stdin.fileHandleForWriting.write(contentsOf: Data(testBytes(1 << 20))) }
        try await Task.sleep(for: .milliseconds(700))
        #expect(child.process.isRunning, "the put should still be waiting for more input")
        kill(child.process.processIdentifier, SIGKILL)
        child.process.waitUntilExit()
        #expect(child.process.terminationReason == .uncaughtSignal)
    }

    @Test func localStoreKeepsNoPartialObject() async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        try await Self.killMidPut(key: "images/i1/big.raw", environment: [:], extraArguments: ["--data-dir", dataDir])
        let store = try LocalBlobStore(root: dataDir + "/storage", baseURL: "http://x", secret: Array(repeating: 1, count: 32))
        #expect(try await store.head(try BlobKey("images/i1/big.raw")) == nil)
        // The interrupted write is left in staging, and clean-up removes it.
        let staged = try FileManager.default.contentsOfDirectory(atPath: dataDir + "/storage/.staging")
        #expect(staged.count == 1)
        #expect(try await store.cleanUp(olderThan: 0) >= 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dataDir + "/storage/.staging").isEmpty)
    }

    @Test func s3StoreKeepsNoPartialObject() async throws {
        let s3 = try StorageBackend.s3Configuration()
        let key = "crash-\(UUID().uuidString.prefix(8))/big.raw"
        try await Self.killMidPut(key: key, environment: [
            "B2_BUCKET": s3.bucket, "B2_ENDPOINT": s3.endpoint, "B2_REGION": s3.region, "B2_KEY_ID": s3.accessKeyID,
            "B2_APP_KEY": s3.secretAccessKey,
        ])
        let store = try StorageBackend.s3.makeStore()
        #expect(try await store.head(try BlobKey(key)) == nil)
    }
}
