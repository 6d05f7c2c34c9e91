import ArrowCore
import ArrowTesting
import Foundation
import Logging
@testable import ArrowStorage
import Testing

/// Public downloads on every store: the copy is whole, stays what was published when the object is deleted or replaced, and
/// unpublishing removes it (twice is fine). S3 copies server-side, in one CopyObject or in UploadPartCopy ranges.
@Suite struct PublicDownloadsContractTests {
    func prefix() -> String { "p" + UUID().uuidString.prefix(8).lowercased() }

    /// The public copy's bytes, read the way each store serves it (moto checks signatures even on the public bucket,
    /// so the S3 copy is read with the key; B2 serves an allPublic bucket without one).
    func readPublic(_ store: any BlobStore, _ key: BlobKey) async throws -> [UInt8]? {
        if let local = store as? LocalBlobStore {
            do {
                let (_, body) = try await local.getPublic(key, range: nil)
                var bytes: [UInt8] = []
                for try await chunk in body { bytes += chunk }
                return bytes
            } catch let error as StorageError where error.code == .notFound {
                return nil
            }
        }
        var configuration = try StorageBackend.s3Configuration()
        configuration.bucket = "arrow-public"
        let publicBucket = S3BlobStore(configuration: configuration, logger: Logger(label: "test"))
        guard try await publicBucket.head(key) != nil else { return nil }
        return try await publicBucket.read(key)
    }

    @Test(arguments: StorageBackend.allCases)
    func aPublishedCopyIsWholeAndUnpublishingRemovesIt(_ backend: StorageBackend) async throws {
        let store = try backend.makeStore()
        let downloads = try #require(store as? any PublicDownloads)
        let key = try BlobKey("\(prefix())/images/disk.qcow2"), publicKey = try BlobKey("downloads/\(prefix())/img/disk image.qcow2")
        let bytes = testBytes(2 << 20 | 77)
        try await store.put(key, body: BlobBody(bytes: bytes), length: Int64(bytes.count))
        let url = try await downloads.publish(key, as: publicKey)
        let path = publicKey.rawValue.replacingOccurrences(of: " ", with: "%20")
        let expected = backend == .local ? "http://127.0.0.1:1/downloads/" + path : try StorageBackend.s3Configuration().endpoint + "/arrow-public/" + path
        #expect(url == expected)
        #expect(try await readPublic(store, publicKey) == bytes)
        // Deleting or replacing the object does not change what was published.
        try await store.delete(key)
        try await store.put(key, body: BlobBody(bytes: testBytes(1000, seed: 9)), length: 1000)
        #expect(try await readPublic(store, publicKey) == bytes)
        try await downloads.unpublish(publicKey)
        #expect(try await readPublic(store, publicKey) == nil)
        try await downloads.unpublish(publicKey)
    }

    @Test func s3CopiesALargeObjectInParts() async throws {
        let store = try #require(try StorageBackend.s3.makeStore() as? S3BlobStore)
        let key = try BlobKey("\(prefix())/large"), publicKey = try BlobKey("downloads/\(prefix())/large")
        let bytes = testBytes(11 << 20, seed: 5)
        try await store.put(key, body: BlobBody(bytes: bytes, chunkSize: 1 << 20), length: Int64(bytes.count))
        _ = try await store.publish(key, as: publicKey, singleCopyLimit: 1 << 20, partSize: 5 << 20)
        #expect(try await readPublic(store, publicKey) == bytes)
        try await store.unpublish(publicKey)
    }

    @Test func aStoreWithoutAPublicBucketSaysSo() async throws {
        var configuration = try StorageBackend.s3Configuration()
        configuration.publicBucket = nil
        let store = S3BlobStore(configuration: configuration, logger: Logger(label: "test"))
        let failure = await #expect(throws: StorageError.self) { try await store.publish(try BlobKey("a"), as: try BlobKey("b")) }
        #expect(failure?.code == .unavailable)
    }
}
