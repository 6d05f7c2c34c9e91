import ArrowCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Backblaze B2 and any S3-compatible service, through our own SigV4 signing.
///
/// Bodies stream in bounded memory with Content-Length always set (B2 refuses chunked uploads); no
/// `x-amz-checksum-*` headers are sent (B2 refuses them). A put of unknown length becomes a multipart upload
/// of buffered parts.
public struct S3BlobStore: BlobStore {
    public let configuration: S3Configuration
    let client: S3Client

    public init(configuration: S3Configuration, http: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.client = S3Client(configuration: configuration, http: http, logger: logger)
    }

    /// The largest single PUT B2 accepts (5 GB); larger objects go up in parts.
    static let maxSinglePut: Int64 = 5_000_000_000

    public func put(_ key: BlobKey, body: BlobBody, length: Int64?) async throws -> BlobInfo {
        guard let length else { return try await putInParts(key, body: body, partSize: S3Configuration.partSize(for: 0)) }
        if length > Self.maxSinglePut {
            return try await putInParts(key, body: body, partSize: S3Configuration.partSize(for: length))
        }
        let response = try await client.send(.PUT, key: key.rawValue, body: .stream(body, length: length), idempotent: false)
        _ = try await response.body.collect(upTo: 1 << 16)
        return BlobInfo(key: key, size: length, etag: response.headers.first(name: "ETag"), lastModified: Date())
    }

    /// Unknown or very large length: buffer one part at a time (memory bounded by the part size), upload each,
    /// then complete; on failure the upload is aborted.
    func putInParts(_ key: BlobKey, body: BlobBody, partSize: Int64) async throws -> BlobInfo {
        let partSize = Int(partSize)
        let upload = try await createMultipartUpload(key)
        do {
            var parts: [UploadedPart] = []
            var buffer: [UInt8] = []
            buffer.reserveCapacity(partSize)
            for try await chunk in body {
                buffer += chunk
                while buffer.count >= partSize {
                    let part = Array(buffer.prefix(partSize))
                    buffer.removeFirst(partSize)
                    parts.append(try await uploadPart(upload, number: parts.count + 1, body: BlobBody(bytes: part), length: Int64(part.count)))
                }
            }
            if !buffer.isEmpty || parts.isEmpty {
                parts.append(try await uploadPart(upload, number: parts.count + 1, body: BlobBody(bytes: buffer), length: Int64(buffer.count)))
            }
            return try await completeMultipartUpload(upload, parts: parts)
        } catch {
            try? await abortMultipartUpload(upload)
            throw error
        }
    }

    public func get(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody) {
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lower)-\(range.upper.map(String.init) ?? "")")) }
        let response = try await client.send(.GET, key: key.rawValue, headers: headers, idempotent: true)
        let size: Int64
        if let contentRange = response.headers.first(name: "Content-Range"), let total = contentRange.split(separator: "/").last.flatMap({ Int64($0) }) {
            size = total
        } else {
            size = response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        }
        let info = BlobInfo(key: key, size: size, etag: response.headers.first(name: "ETag"))
        return (info, BlobBody(response.body, transform: { Array($0.readableBytesView) }))
    }

    public func head(_ key: BlobKey) async throws -> BlobInfo? {
        let response = try await client.send(.HEAD, key: key.rawValue, idempotent: true, acceptNotFound: true)
        guard response.status != .notFound else { return nil }
        let modified = response.headers.first(name: "Last-Modified").flatMap(Self.parseHTTPDate)
        return BlobInfo(key: key, size: response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0,
                        etag: response.headers.first(name: "ETag"), lastModified: modified)
    }

    public func delete(_ key: BlobKey) async throws {
        _ = try await client.send(.DELETE, key: key.rawValue, idempotent: true, acceptNotFound: true)
    }

    public func list(prefix: String) async throws -> [BlobInfo] {
        var infos: [BlobInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.send(.GET, key: nil, query: query, idempotent: true)
            let xml = S3XML.parse(Array(try await response.body.collect(upTo: 32 << 20).readableBytesView), record: "Contents")
            for record in xml.records {
                guard let name = record["Key"], let key = try? BlobKey(name) else { continue }
                infos.append(BlobInfo(key: key, size: Int64(record["Size"] ?? "0") ?? 0, etag: record["ETag"]))
            }
            token = xml.values["IsTruncated"] == "true" ? xml.values["NextContinuationToken"] : nil
        } while token != nil
        return infos.sorted { $0.key.rawValue < $1.key.rawValue }
    }

    // MARK: Multipart

    /// S3 assembles the parts itself; the part size needs no announcing.
    public func createMultipartUpload(_ key: BlobKey, partSize: Int64?) async throws -> MultipartUpload {
        let response = try await client.send(.POST, key: key.rawValue, query: [("uploads", "")], idempotent: false)
        let xml = S3XML.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        guard let id = xml.values["UploadId"], !id.isEmpty else { throw StorageError(.internal, "No UploadId in the answer") }
        return MultipartUpload(key: key, uploadID: id)
    }

    public func uploadPart(_ upload: MultipartUpload, number: Int, body: BlobBody, length: Int64) async throws -> UploadedPart {
        guard (1...10_000).contains(number) else { throw StorageError(.invalidPart, "Part numbers run from 1 to 10000") }
        let response = try await client.send(
            .PUT, key: upload.key, query: [("partNumber", String(number)), ("uploadId", upload.uploadID)],
            body: .stream(body, length: length), idempotent: false)
        _ = try await response.body.collect(upTo: 1 << 16)
        guard let etag = response.headers.first(name: "ETag") else { throw StorageError(.internal, "No ETag for part \(number)") }
        return UploadedPart(number: number, etag: etag, size: length)
    }

    public func listParts(_ upload: MultipartUpload) async throws -> [UploadedPart] {
        var parts: [UploadedPart] = []
        var marker: String?
        repeat {
            var query = [("uploadId", upload.uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try await client.send(.GET, key: upload.key, query: query, idempotent: true)
            let xml = S3XML.parse(Array(try await response.body.collect(upTo: 32 << 20).readableBytesView), record: "Part")
            for record in xml.records {
                guard let number = record["PartNumber"].flatMap(Int.init), let etag = record["ETag"] else { continue }
                parts.append(UploadedPart(number: number, etag: etag, size: Int64(record["Size"] ?? "0") ?? 0))
            }
            marker = xml.values["IsTruncated"] == "true" ? xml.values["NextPartNumberMarker"] : nil
        } while marker != nil
        return parts.sorted { $0.number < $1.number }
    }

    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws -> BlobInfo {
        let ordered = parts.sorted { $0.number < $1.number }
        let etag = try await complete(bucket: nil, key: upload.key, uploadID: upload.uploadID, parts: ordered.map { ($0.number, $0.etag) })
        return BlobInfo(key: try upload.blobKey(), size: ordered.reduce(0) { $0 + $1.size }, etag: etag)
    }

    /// Completes an upload from its `parts`, in number order (in `bucket`, default the store's); returns the object's ETag.
    func complete(bucket: String?, key: String, uploadID: String, parts: [(number: Int, etag: String)]) async throws -> String? {
        let xml = "<CompleteMultipartUpload>" + parts.map {
            "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(XMLText.escape($0.etag))</ETag></Part>"
        }.joined() + "</CompleteMultipartUpload>"
        let response = try await client.send(
            .POST, bucket: bucket, key: key, query: [("uploadId", uploadID)], headers: [("Content-Type", "application/xml")],
            body: .bytes(Array(xml.utf8)), idempotent: true)
        let answer = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        // S3 may answer 200 with an error document when completion fails late.
        let values = S3XML.parse(answer).values
        if values["Code"] != nil { throw S3Client.error(status: .internalServerError, body: answer) }
        return values["ETag"]
    }

    public func abortMultipartUpload(_ upload: MultipartUpload) async throws {
        _ = try await client.send(.DELETE, key: upload.key, query: [("uploadId", upload.uploadID)], idempotent: true, acceptNotFound: true)
    }

    // MARK: Presigning (straight to the service; clients upload and download without our server in the path)

    public func presignGet(_ key: BlobKey, expiresIn: TimeInterval) throws -> PresignedRequest {
        presign("GET", key: key.rawValue, query: [], expiresIn: expiresIn, contentLength: nil)
    }

    public func presignUploadPart(_ upload: MultipartUpload, number: Int, expiresIn: TimeInterval, contentLength: Int64?) throws -> PresignedRequest {
        presign("PUT", key: upload.key, query: [("partNumber", String(number)), ("uploadId", upload.uploadID)],
                expiresIn: expiresIn, contentLength: contentLength)
    }

    func presign(_ method: String, key: String, query: [(String, String)], expiresIn: TimeInterval, contentLength: Int64?) -> PresignedRequest {
        let (base, host, path) = client.location(bucket: configuration.bucket, key: key)
        let expires = Int(min(max(expiresIn, 1), Double(SigV4Signer.maxPresignExpiry)))
        var headers: [(String, String)] = []
        if let contentLength { headers.append(("content-length", String(contentLength))) }
        let now = Date()
        let signed = client.signer.presignedQuery(
            for: .init(method: method, host: host, path: path, query: query, headers: headers), expires: expires, date: now)
        return PresignedRequest(
            method: method, url: base + SigV4Signer.canonicalURI(path) + "?" + signed,
            headers: contentLength.map { ["Content-Length": String($0)] } ?? [:], expiresAt: now.addingTimeInterval(TimeInterval(expires)))
    }

    /// The public URL of `key` in `B2_PUBLIC_BUCKET`, for images marked downloadable; nil without a public bucket.
    public func publicURL(for key: BlobKey) -> String? {
        guard let bucket = configuration.publicBucket else { return nil }
        let (base, _, path) = client.location(bucket: bucket, key: key.rawValue)
        return base + SigV4Signer.canonicalURI(path)
    }

    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
