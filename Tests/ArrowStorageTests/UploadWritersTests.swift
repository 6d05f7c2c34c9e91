@testable import ArrowStorage
import ArrowCore
import Testing

/// Completion of a local multipart upload waits for part writes in flight and refuses later ones.
@Suite struct UploadWritersTests {
    @Test func sealWaitsForWritersInFlightAndRefusesNewOnes() async throws {
        let writers = UploadWriters()
        try writers.begin("u")
        let sealed = Task { try await writers.seal("u") }
        try await Task.sleep(for: .milliseconds(50))
        // Sealing has begun: a new writer is refused while the one in flight still holds the seal open.
        #expect(throws: StorageError.self) { try writers.begin("u") }
        writers.end("u")
        try await sealed.value
        #expect(throws: StorageError.self) { try writers.begin("u") }
        // A second completion of the same upload is refused while the first holds the seal.
        await #expect(throws: StorageError.self) { try await writers.seal("u") }
        writers.unseal("u")
        try writers.begin("u")
        writers.end("u")
        try writers.begin("other")
        writers.end("other")
    }

    @Test func aWriterThatNeverEndsDoesNotHoldCompletionForever() async throws {
        let writers = UploadWriters()
        try writers.begin("slow")
        let error = await #expect(throws: StorageError.self) { try await writers.seal("slow", patience: .milliseconds(100)) }
        #expect(error?.code == .invalidPart)
        // The seal was lifted: the upload stays usable.
        try writers.begin("slow")
        writers.end("slow")
        writers.end("slow")
    }
}
