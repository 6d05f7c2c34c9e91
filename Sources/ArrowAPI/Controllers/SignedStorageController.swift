import ArrowCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Serves the local store's presigned URLs: `GET /api/storage/objects/{key}` and
/// `PUT /api/storage/uploads/{upload_id}/{part_number}` (writes only ever go to a part of an open upload). The URL's signature is the credential; no token.
/// Bodies stream in both directions. With B2/S3 configured, clients go to the bucket directly and these 404.
struct SignedStorageController {
    let storage: (any ServerSignedStorage)?

    func register(on routes: APIRoutes) {
        routes.get("/api/storage/objects/**", .open, use: download)
        routes.get("/downloads/**", .open, use: publicDownload)
        routes.put("/api/storage/uploads/:upload_id/:part_number", .open, use: uploadPart)
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (storage, target) = try authorize(request, contentLength: nil)
        guard case .object(let key) = target else { throw ArrowError.notFound("Object") }
        let range = try request.headers[.range].map(Self.parseRange)
        let (info, body) = try await storage.get(key, range: range)
        return try Self.stream(info, body, range: range)
    }

    /// A published image's public copy on the local store (``PublicDownloads``): no credentials, as a public bucket.
    @Sendable func publicDownload(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let storage else { throw ArrowError.notFound("Download") }
        let path = String(request.uri.path.dropFirst("/downloads/".count))
        guard let decoded = path.removingPercentEncoding, let key = try? BlobKey(decoded) else { throw ArrowError.notFound("Download") }
        let range = try request.headers[.range].map(Self.parseRange)
        let (info, body): (BlobInfo, BlobBody)
        do {
            (info, body) = try await storage.getPublic(key, range: range)
        } catch let error as StorageError where error.code == .notFound {
            throw ArrowError.notFound("Download")
        }
        return try Self.stream(info, body, range: range)
    }

    static func stream(_ info: BlobInfo, _ body: BlobBody, range: ByteRange?) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes"]
        let status: HTTPResponse.Status
        if let range {
            let bounds = try range.resolved(size: info.size)
            headers[.contentRange] = "bytes \(bounds.lowerBound)-\(bounds.upperBound)/\(info.size)"
            headers[.contentLength] = String(bounds.count)
            status = .partialContent
        } else {
            headers[.contentLength] = String(info.size)
            status = .ok
        }
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: ByteBufferChunks(body: body)))
    }

    @Sendable func uploadPart(_ request: Request, context: AppRequestContext) async throws -> Response {
        let length = try Self.contentLength(request)
        let (storage, target) = try authorize(request, contentLength: length)
        guard case .part(let id, let number) = target else { throw ArrowError.notFound("Upload") }
        let upload = try storage.multipartUpload(id: id)
        let part = try await storage.uploadPart(
            upload, number: number, body: BlobBody(request.body, transform: { Array($0.readableBytesView) }), length: length)
        return Response(status: .ok, headers: [.eTag: part.etag])
    }

    private func authorize(_ request: Request, contentLength: Int64?) throws -> (any ServerSignedStorage, SignedStorageTarget) {
        guard let storage else { throw ArrowError.notFound("Storage path") }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        let target = try storage.authorize(method: request.method.rawValue, path: request.uri.path, query: query, contentLength: contentLength)
        return (storage, target)
    }

    static func contentLength(_ request: Request) throws -> Int64 {
        guard let text = request.headers[.contentLength], let length = Int64(text), length >= 0 else {
            throw ArrowError(.lengthRequired, reason: "length_required", "Send Content-Length (chunked uploads are not accepted)")
        }
        return length
    }

    /// `bytes=a-b` or `bytes=a-` (one range).
    static func parseRange(_ header: String) throws -> ByteRange {
        guard header.hasPrefix("bytes="), !header.contains(",") else {
            throw ArrowError(.rangeNotSatisfiable, reason: "invalid_range", "Only one byte range is supported")
        }
        let parts = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let lower = Int64(parts[0]), parts[1].isEmpty || Int64(parts[1]) != nil else {
            throw ArrowError(.rangeNotSatisfiable, reason: "invalid_range", "Malformed Range header")
        }
        return ByteRange(lower, parts[1].isEmpty ? nil : Int64(parts[1]))
    }
}

/// A ``BlobBody`` as response `ByteBuffer`s.
struct ByteBufferChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: BlobBody

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: BlobBody.AsyncIterator
        mutating func next() async throws -> ByteBuffer? { try await base.next().map { ByteBuffer(bytes: $0) } }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator()) }
}
