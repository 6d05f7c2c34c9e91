import ArrowCore
import Foundation
import Synchronization

/// Forwards to a store, but fails as a busy or unreachable B2 would (503): the first `busyCompletions` completions, and
/// the reads whose numbers are in `failingReads` (1-based, counted from the first completion that assembled).
/// `beforeRead` runs before each of those reads: what another process does meanwhile.
public final class FlakyStore: BlobStore, Sendable {
    let base: any BlobStore
    let failingReads: Set<Int>
    let beforeRead: (@Sendable () async -> Void)?
    private let state: Mutex<(busyCompletions: Int, assembled: Bool, reads: Int)>

    public init(_ base: any BlobStore, busyCompletions: Int = 0, failingReads: Set<Int> = [], beforeRead: (@Sendable () async -> Void)? = nil) {
        self.base = base
        self.failingReads = failingReads
        self.beforeRead = beforeRead
        state = Mutex((busyCompletions, false, 0))
    }

    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws -> BlobInfo {
        if state.withLock({ state in defer { state.busyCompletions -= 1 }; return state.busyCompletions > 0 }) {
            throw StorageError(.unavailable, "503 SlowDown")
        }
        let info = try await base.completeMultipartUpload(upload, parts: parts)
        state.withLock { $0.assembled = true }
        return info
    }

    public func get(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody) {
        let (assembled, fail) = state.withLock { state in
            guard state.assembled else { return (false, false) }
            state.reads += 1
            return (true, failingReads.contains(state.reads))
        }
        if assembled, let beforeRead { await beforeRead() }
        if fail { throw StorageError(.unavailable, "503 Service Unavailable") }
        return try await base.get(key, range: range)
    }

    public func put(_ key: BlobKey, body: BlobBody, length: Int64?) async throws -> BlobInfo { try await base.put(key, body: body, length: length) }
    public func head(_ key: BlobKey) async throws -> BlobInfo? { try await base.head(key) }
    public func delete(_ key: BlobKey) async throws { try await base.delete(key) }
    public func list(prefix: String) async throws -> [BlobInfo] { try await base.list(prefix: prefix) }
    public func createMultipartUpload(_ key: BlobKey, partSize: Int64?) async throws -> MultipartUpload {
        try await base.createMultipartUpload(key, partSize: partSize)
    }
    public func uploadPart(_ upload: MultipartUpload, number: Int, body: BlobBody, length: Int64) async throws -> UploadedPart {
        try await base.uploadPart(upload, number: number, body: body, length: length)
    }
    public func listParts(_ upload: MultipartUpload) async throws -> [UploadedPart] { try await base.listParts(upload) }
    public func abortMultipartUpload(_ upload: MultipartUpload) async throws { try await base.abortMultipartUpload(upload) }
    public func presignGet(_ key: BlobKey, expiresIn: TimeInterval) throws -> PresignedRequest { try base.presignGet(key, expiresIn: expiresIn) }
    public func presignUploadPart(_ upload: MultipartUpload, number: Int, expiresIn: TimeInterval, contentLength: Int64?) throws -> PresignedRequest {
        try base.presignUploadPart(upload, number: number, expiresIn: expiresIn, contentLength: contentLength)
    }
}
