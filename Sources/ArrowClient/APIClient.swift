import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The API's JSON error, as a client sees it: the stable code, the message, the HTTP status.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "\(code): \(message)" }
}

/// A thin client of the ARROW API: JSON requests with a bearer token, errors decoded to ``APIError``.
public struct APIClient: Sendable {
    public let baseURL: String
    let token: String
    let http: HTTPClient

    /// The CLI's HTTP client. Unlike AsyncHTTPClient's shared one it does not retry a refused connection with backoff
    /// (which made a dead server look like a 90-second hang): a server that is not there is said at once, after a
    /// connect timeout of 10 s at most. Requests that may be repeated retry on their own terms (parts, three times).
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(baseURL: String, token: String, http: HTTPClient = APIClient.defaultHTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.http = http
    }

    /// Sends a request and returns the decoded JSON body (nil for an empty one).
    /// - Throws: ``APIError`` for an error status.
    @discardableResult
    public func json(_ method: HTTPMethod, _ path: String, body: Any? = nil) async throws -> Any? {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: .minutes(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return try Self.decode(status: Int(response.status.code), bytes)
    }

    /// Decodes a response body, turning an error status into ``APIError``.
    static func decode(status: Int, _ body: ByteBuffer) throws -> Any? {
        let data = Data(body.readableBytesView)
        let object = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
        guard (200..<400).contains(status) else {
            let error = (object as? [String: Any])?["error"] as? [String: Any]
            throw APIError(status: status, code: error?["code"] as? String ?? "http_\(status)",
                           message: error?["message"] as? String ?? String(decoding: data.prefix(500), as: UTF8.self))
        }
        return object
    }

    /// Sends a streamed body of known length; returns the decoded JSON response.
    func stream<Chunks: AsyncSequence & Sendable>(
        _ method: HTTPMethod, url: String, headers: [(String, String)], body: Chunks, length: Int64, authorized: Bool
    ) async throws -> Any? where Chunks.Element == ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if authorized { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .stream(body, length: .known(length))
        let response = try await http.execute(request, timeout: .hours(6))
        return try Self.decode(status: Int(response.status.code), try await response.body.collect(upTo: 16 << 20))
    }
}

extension APIClient {
    /// The response body's lines as they arrive (Server-Sent Events, a followed log), until the server ends it.
    /// - Throws: ``APIError`` for an error status.
    public func lines(_ path: String) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var request = HTTPClientRequest(url: baseURL + path)
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    request.headers.add(name: "Accept", value: "text/event-stream")
                    let response = try await http.execute(request, timeout: .hours(12))
                    guard (200..<300).contains(response.status.code) else {
                        _ = try Self.decode(status: Int(response.status.code), try await response.body.collect(upTo: 1 << 20))
                        return continuation.finish()
                    }
                    var pending: [UInt8] = []
                    for try await chunk in response.body {
                        pending += chunk.readableBytesView
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
                            pending.removeSubrange(...newline)
                        }
                    }
                    if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
