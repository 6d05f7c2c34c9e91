import ArrowCore
import ArrowFormats
import Crypto
import Foundation
import Synchronization

/// Watches an upload stream on its way to storage: inspects the format, hashes with SHA-256 and counts bytes,
/// failing with 413 the moment the limit is passed (not after reading everything).
final class UploadPipeline: Sendable {
    // StreamingInspection is a value without a Sendable conformance; the Mutex is what makes sharing it safe.
    private struct Inspection: @unchecked Sendable { var value = StreamingInspection() }

    private let inspection = Mutex(Inspection())
    private let digest = RunningDigest()
    let maximum: Int64

    init(maximum: Int64) { self.maximum = maximum }

    /// The body the store reads: each chunk passes through `observe` first.
    func wrap(_ body: BlobBody) -> BlobBody {
        BlobBody(body, transform: { [self] chunk in try self.observe(chunk) })
    }

    func observe(_ chunk: [UInt8]) throws -> [UInt8] {
        guard digest.count + Int64(chunk.count) <= maximum else {
            throw ArrowError(.payloadTooLarge, reason: "file_too_large", "The file is larger than \(UploadLimits.describe(maximum))")
        }
        inspection.withLock { $0.value.feed(chunk) }
        digest.update(chunk)
        return chunk
    }

    /// Ends the stream: the inspection findings, the hex SHA-256 and the byte count.
    func finish() -> (findings: Findings, sha256: String, size: Int64) {
        let (sha256, size) = digest.finish()
        return (inspection.withLock { $0.value.finish() }, sha256, size)
    }
}

/// A SHA-256 and byte count fed chunk by chunk, from whichever task holds the stream.
final class RunningDigest: Sendable {
    // SHA256 is a plain value without a Sendable conformance; the Mutex is what makes sharing it safe.
    private struct State: @unchecked Sendable {
        var hash = SHA256()
        var count: Int64 = 0
    }

    private let state = Mutex(State())

    /// Bytes seen so far.
    var count: Int64 { state.withLock { $0.count } }

    func update(_ chunk: [UInt8]) {
        state.withLock {
            $0.hash.update(data: chunk)
            $0.count += Int64(chunk.count)
        }
    }

    func finish() -> (String, Int64) { state.withLock { (Hex.string($0.hash.finalize()), $0.count) } }
}
