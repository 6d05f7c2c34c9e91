import ArrowCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Signed requests to an S3-compatible service, with retries (backoff and jitter) for idempotent ones.
struct S3Client: Sendable {
    let configuration: S3Configuration
    let signer: SigV4Signer
    let http: HTTPClient
    let logger: Logger

    init(configuration: S3Configuration, http: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.signer = SigV4Signer(
            credentials: .init(accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey),
            region: configuration.region)
        self.http = http
        self.logger = logger
    }

    /// Scheme+host(+port) and the path for `key` in `bucket`, per the addressing style.
    func location(bucket: String, key: String?) -> (base: String, host: String, path: String) {
        let url = URL(string: configuration.endpoint)!
        let scheme = url.scheme ?? "https"
        var host = url.host ?? ""
        if let port = url.port { host += ":\(port)" }
        let keyPath = key.map { "/" + $0 } ?? "/"
        if configuration.pathStyle {
            return ("\(scheme)://\(host)", host, "/\(bucket)" + (key.map { "/" + $0 } ?? ""))
        }
        return ("\(scheme)://\(bucket).\(host)", "\(bucket).\(host)", keyPath)
    }

    enum Body {
        case none
        /// In memory: retryable, and its hash is signed.
        case bytes([UInt8])
        /// A stream of known length: sent once, `UNSIGNED-PAYLOAD`.
        case stream(BlobBody, length: Int64)
    }

    struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: HTTPClientResponse.Body
    }

    /// Sends one signed request. Idempotent requests (and in-memory bodies) are retried on 5xx, 503 SlowDown and
    /// connection failures; a response with another error status becomes a ``StorageError``.
    func send(
        _ method: HTTPMethod, bucket: String? = nil, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: Body = .none, idempotent: Bool, acceptNotFound: Bool = false
    ) async throws -> Response {
        let (base, host, path) = location(bucket: bucket ?? configuration.bucket, key: key)
        let retryable: Bool
        switch body {
        case .stream: retryable = false
        default: retryable = idempotent
        }
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await sendOnce(method, base: base, host: host, path: path, query: query, headers: headers, body: body)
                if response.status.code >= 500 && retryable && attempt < configuration.maxAttempts {
                    _ = try? await response.body.collect(upTo: 64 * 1024)
                    try await backoff(attempt)
                    continue
                }
                if response.status.code >= 300 && !(acceptNotFound && response.status == .notFound) {
                    let text = (try? await response.body.collect(upTo: 64 * 1024)).map { Array($0.readableBytesView) } ?? []
                    throw Self.error(status: response.status, body: text)
                }
                return response
            } catch let error as StorageError {
                throw error
            } catch {
                guard retryable && attempt < configuration.maxAttempts else {
                    throw StorageError(.unavailable, "The object store did not answer", cause: error)
                }
                logger.debug("retrying storage request", metadata: ["storage.attempt": .stringConvertible(attempt)])
                try await backoff(attempt)
            }
        }
    }

    private func sendOnce(
        _ method: HTTPMethod, base: String, host: String, path: String, query: [(String, String)], headers: [(String, String)],
        body: Body
    ) async throws -> Response {
        // Content-Length is not signed (as the AWS SDKs do): AsyncHTTPClient sets it from the body's known length.
        let extra = headers
        let payloadHash: String
        switch body {
        case .none: payloadHash = SigV4Signer.emptyPayloadHash
        case .bytes(let bytes): payloadHash = SigV4Signer.payloadHash(bytes)
        case .stream: payloadHash = SigV4Signer.unsignedPayload
        }
        let signed = signer.signedHeaders(
            for: .init(method: method.rawValue, host: host, path: path, query: query, headers: extra),
            payloadHash: payloadHash, date: Date())
        let queryString = SigV4Signer.canonicalQuery(query)
        var request = HTTPClientRequest(url: base + SigV4Signer.canonicalURI(path) + (queryString.isEmpty ? "" : "?" + queryString))
        request.method = method
        for (name, value) in signed { request.headers.replaceOrAdd(name: name, value: value) }
        switch body {
        case .none: break
        case .bytes(let bytes): request.body = .bytes(ByteBuffer(bytes: bytes))
        case .stream(let stream, let length):
            request.body = .stream(ByteBuffers(body: stream), length: .known(length))
        }
        let response = try await http.execute(request, timeout: .seconds(300), logger: logger)
        return Response(status: response.status, headers: response.headers, body: response.body)
    }

    private func backoff(_ attempt: Int) async throws {
        let base = 100.0 * pow(2.0, Double(attempt - 1))
        let jitter = Double.random(in: 0...base)
        try await Task.sleep(for: .milliseconds(Int(base + jitter)))
    }

    static func error(status: HTTPResponseStatus, body: [UInt8]) -> StorageError {
        let values = S3XML.parse(body).values
        let code = values["Code"] ?? "HTTP \(status.code)"
        let message = "\(code): \(values["Message"] ?? status.reasonPhrase)"
        switch (status.code, code) {
        case (404, _): return StorageError(.notFound, message)
        case (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"): return StorageError(.invalidSignature, message)
        case (403, _): return StorageError(.accessDenied, message)
        case (416, _): return StorageError(.invalidRange, message)
        case (_, "InvalidPart"), (_, "InvalidPartOrder"), (_, "EntityTooSmall"): return StorageError(.invalidPart, message)
        case (500...599, _): return StorageError(.unavailable, message)
        default: return StorageError(.internal, message)
        }
    }
}

/// A ``BlobBody`` as the `ByteBuffer`s AsyncHTTPClient sends.
struct ByteBuffers: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: BlobBody

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: BlobBody.AsyncIterator
        mutating func next() async throws -> ByteBuffer? { try await base.next().map { ByteBuffer(bytes: $0) } }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator()) }
}
