import ArrowCore
import ArrowDatabase
import Crypto
import Foundation

/// `arrow storage verify`: every active image's object re-read and hashed against its record, so bytes changed behind
/// the record (by hand on the disk, or in the bucket) are found.
public struct StorageVerification: Sendable {
    public enum Outcome: String, Sendable, Codable {
        case ok
        /// The object's size or SHA-256 differs from the record.
        case mismatch
        /// No object under the record's key.
        case missing
    }

    public struct Finding: Sendable, Codable {
        public var imageID: String
        public var key: String
        public var outcome: Outcome
        public var expectedSHA256: String
        public var actualSHA256: String?
        public var expectedSize: Int64
        public var actualSize: Int64?
    }

    let backends: Backends

    public init(backends: Backends) { self.backends = backends }

    /// Checks every active image of every organization, `progress` called after each.
    public func run(progress: (Finding) -> Void = { _ in }) async throws -> [Finding] {
        var findings: [Finding] = []
        var offset = 0
        while true {
            let page = try await backends.store.repositories.images.list(
                organization: nil, filter: ImageFilter(status: .active, limit: 500, offset: offset), scope: .all)
            for image in page {
                let finding = try await check(image)
                findings.append(finding)
                progress(finding)
            }
            guard page.count == 500 else { return findings }
            offset += page.count
        }
    }

    func check(_ image: Image) async throws -> Finding {
        var finding = Finding(imageID: image.id.rawValue, key: image.storageKey, outcome: .ok, expectedSHA256: image.sha256,
                              expectedSize: image.fileSize)
        let body: BlobBody
        do {
            (_, body) = try await backends.blobs.get(try BlobKey(image.storageKey), range: nil)
        } catch let error as StorageError where error.code == .notFound {
            finding.outcome = .missing
            return finding
        }
        var hash = SHA256()
        var size: Int64 = 0
        for try await chunk in body {
            hash.update(data: chunk)
            size += Int64(chunk.count)
        }
        finding.actualSHA256 = Hex.string(hash.finalize())
        finding.actualSize = size
        if finding.actualSHA256 != image.sha256 || size != image.fileSize { finding.outcome = .mismatch }
        return finding
    }
}
