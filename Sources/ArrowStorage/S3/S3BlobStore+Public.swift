import ArrowCore
import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Public downloads in `B2_PUBLIC_BUCKET`: the object copied server-side (CopyObject; in 1 GiB UploadPartCopy
/// ranges beyond the 5 GB a single copy may take), never through this server. The public bucket's own setting
/// (B2 "allPublic") makes it readable; the URL is the bucket's plain object URL.
extension S3BlobStore: PublicDownloads {
    static let copyPartSize: Int64 = 1 << 30

    public func publish(_ key: BlobKey, as publicKey: BlobKey) async throws -> String {
        try await publish(key, as: publicKey, singleCopyLimit: Self.maxSinglePut, partSize: Self.copyPartSize)
    }

    /// The limits as parameters, so a test takes the multipart path with a small object.
    func publish(_ key: BlobKey, as publicKey: BlobKey, singleCopyLimit: Int64, partSize: Int64) async throws -> String {
        guard let bucket = configuration.publicBucket, let url = publicURL(for: publicKey) else {
            throw StorageError(.unavailable, "No public bucket is configured (B2_PUBLIC_BUCKET)")
        }
        guard let info = try await head(key) else { throw StorageError(.notFound, "No object \(key)") }
        let source = "/" + configuration.bucket + SigV4Signer.canonicalURI("/" + key.rawValue)
        if info.size <= singleCopyLimit {
            let response = try await client.send(.PUT, bucket: bucket, key: publicKey.rawValue, headers: [("x-amz-copy-source", source)], idempotent: true)
            let answer = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            // A copy may fail after its 200 started: the error is then in the body.
            if S3XML.parse(answer).values["Code"] != nil { throw S3Client.error(status: .internalServerError, body: answer) }
        } else {
            try await copyInParts(source: source, size: info.size, bucket: bucket, key: publicKey, partSize: partSize)
        }
        return url
    }

    func copyInParts(source: String, size: Int64, bucket: String, key: BlobKey, partSize: Int64) async throws {
        let created = try await client.send(.POST, bucket: bucket, key: key.rawValue, query: [("uploads", "")], idempotent: false)
        guard let id = S3XML.parse(Array(try await created.body.collect(upTo: 1 << 20).readableBytesView)).values["UploadId"] else {
            throw StorageError(.internal, "No UploadId in the answer")
        }
        do {
            var parts: [String] = []
            var offset: Int64 = 0
            while offset < size {
                let last = min(offset + partSize, size) - 1
                let response = try await client.send(
                    .PUT, bucket: bucket, key: key.rawValue, query: [("partNumber", String(parts.count + 1)), ("uploadId", id)],
                    headers: [("x-amz-copy-source", source), ("x-amz-copy-source-range", "bytes=\(offset)-\(last)")], idempotent: true)
                guard let etag = S3XML.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)).values["ETag"] else {
                    throw StorageError(.internal, "No ETag for copied part \(parts.count + 1)")
                }
                parts.append(etag)
                offset = last + 1
            }
            _ = try await complete(bucket: bucket, key: key.rawValue, uploadID: id, parts: parts.enumerated().map { ($0.offset + 1, $0.element) })
        } catch {
            _ = try? await client.send(.DELETE, bucket: bucket, key: key.rawValue, query: [("uploadId", id)], idempotent: true, acceptNotFound: true)
            throw error
        }
    }

    public func unpublish(_ publicKey: BlobKey) async throws {
        guard let bucket = configuration.publicBucket else { return }
        _ = try await client.send(.DELETE, bucket: bucket, key: publicKey.rawValue, idempotent: true, acceptNotFound: true)
    }
}
