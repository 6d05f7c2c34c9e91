import ArrowCore
import ArrowFormats
import Crypto
import Foundation
import Synchronization

/// Watches an upload stream on its way to storage: inspects the format, hashes with SHA-256 and counts bytes,
/// failing with 413 the moment the limit is passed (not after reading everything).
final class UploadPipeline: Sendable {
    // SHA256 is a value type without a Sendable conformance; the Mutex is what makes sharing it safe.
    private struct State: @unchecked Sendable {
        var inspection = StreamingInspection()
        var hash = SHA256()
        var count: Int64 = 0
    }

    private let state = Mutex(State())
    let maximum: Int64

    init(maximum: Int64) { self.maximum = maximum }

    /// The body the store reads: each chunk passes through `observe` first.
    func wrap(_ body: BlobBody) -> BlobBody {
        BlobBody(body, transform: { [self] chunk in try self.observe(chunk) })
    }

    func observe(_ chunk: [UInt8]) throws -> [UInt8] {
        try state.withLock { state in
            state.count += Int64(chunk.count)
            guard state.count <= maximum else {
                throw ArrowError(.payloadTooLarge, reason: "file_too_large", "The file is larger than \(UploadLimits.describe(maximum))")
            }
            state.inspection.feed(chunk)
            state.hash.update(data: chunk)
        }
        return chunk
    }

    /// Ends the stream: the inspection findings, the hex SHA-256 and the byte count.
    func finish() -> (findings: Findings, sha256: String, size: Int64) {
        state.withLock { state in
            let digest = state.hash.finalize().hex
            return (state.inspection.finish(), digest, state.count)
        }
    }
}

extension SHA256.Digest {
    /// Lower-case hexadecimal, as the API shows digests.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
