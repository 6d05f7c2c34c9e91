import NIOCore
import HTTPTypes
import ArrowCore
import Foundation
import Hummingbird
import Logging

/// Turns every error into the API's JSON error body, `{"error":{"code":…,"message":…,"request_id":…}}`, with the
/// right status. This is the one place errors meet HTTP (``EdgeMiddleware`` calls it for whatever a request threw).
/// A 500 says only that something failed and which request it was; the cause goes to the log.
struct ErrorResponses: Sendable {
    /// Maps infrastructure errors the API cannot see (database down, storage unreachable) to domain errors.
    let classify: @Sendable (any Error) -> ArrowError?

    func response(for error: any Error, context: AppRequestContext) -> Response {
        let status: HTTPResponse.Status
        let code: String
        let message: String
        var failedChecks: [FailedCheck]?
        var headers = HTTPFields()
        if let arrow = (error as? ArrowError) ?? (error as? StorageError).map(Self.arrowError) ?? classify(error) {
            status = Self.status(for: arrow.code)
            code = arrow.publicCode
            if arrow.code == .internalError {
                message = "Internal error"
                context.logger.error("request failed", metadata: ["error": .string(String(describing: arrow))])
            } else {
                message = arrow.message
                if status == .serviceUnavailable {
                    context.logger.warning("dependency unavailable", metadata: ["error": .string(String(describing: arrow))])
                }
            }
            if let retryAfter = arrow.retryAfter { headers[.retryAfter] = String(retryAfter) }
            failedChecks = arrow.failedChecks
            if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        } else if ClientDisconnect.matches(error) {
            status = HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
            code = "client_disconnected"
            message = "The client closed the connection before the request was complete"
            context.logger.debug("client disconnected", metadata: ["error": .string(String(describing: error))])
        } else if let http = error as? any HTTPResponseError, http.status.code < 500 {
            status = http.status
            code = Self.code(for: http.status)
            message = (http as? HTTPError)?.body ?? http.status.reasonPhrase
        } else {
            status = .internalServerError
            code = "internal"
            message = "Internal error"
            context.logger.error("request failed", metadata: ["error": .string(String(reflecting: error))])
        }
        let body = ErrorBody(error: .init(code: code, message: message, requestId: context.requestID, violations: failedChecks))
        headers[.contentType] = "application/json; charset=utf-8"
        let data = (try? APIResponseEncoder.bytes(body)) ?? Array(#"{"error":{"code":"internal","message":"Internal error"}}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Storage failures as the API reports them.
    static func arrowError(_ error: StorageError) -> ArrowError {
        switch error.code {
        case .notFound: return ArrowError(.notFound, reason: "not_found", error.message, cause: error)
        case .invalidSignature: return ArrowError(.forbidden, reason: "invalid_signature", "The URL's signature is not valid", cause: error)
        case .expired: return ArrowError(.forbidden, reason: "url_expired", "The URL has expired", cause: error)
        case .lengthMismatch: return ArrowError(.invalidInput, reason: "length_mismatch", error.message, cause: error)
        case .invalidKey: return ArrowError(.invalidInput, reason: "invalid_key", error.message, cause: error)
        case .invalidRange: return ArrowError(.rangeNotSatisfiable, reason: "invalid_range", error.message, cause: error)
        case .invalidPart: return ArrowError(.unprocessable, reason: "invalid_part", error.message, cause: error)
        case .tooLarge: return ArrowError(.payloadTooLarge, reason: "too_large", error.message, cause: error)
        case .unavailable: return ArrowError(.unavailable, reason: "storage_unavailable", "Object storage is not reachable", cause: error)
        case .alreadyExists: return ArrowError(.conflict, reason: "object_exists", "A stored object is never replaced", cause: error)
        default: return ArrowError(.internalError, "Storage failure", cause: error)
        }
    }

    static func status(for code: ArrowError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidInput: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .payloadTooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .unprocessable: return .unprocessableContent
        case .rateLimited: return .tooManyRequests
        case .rangeNotSatisfiable: return .rangeNotSatisfiable
        case .lengthRequired: return .lengthRequired
        case .unavailable: return .serviceUnavailable
        default: return .internalServerError
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "invalid_input"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 409: return "conflict"
        case 413: return "payload_too_large"
        case 415: return "unsupported_media_type"
        case 422: return "unprocessable"
        case 429: return "rate_limited"
        default: return "http_\(status.code)"
        }
    }
}

/// The error body every failing response carries.
public struct ErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        public var requestId: String?
        /// The checks an image failed, when that is why the request was refused.
        public var violations: [FailedCheck]?
    }
    public var error: Detail
}

/// The answer to bytes that are not an HTTP request the server can parse (a garbage request line, oversized or too
/// many headers, a bad Content-Length), written by the connection's pipeline before any route sees a request: the
/// API's JSON error with a request id, like every other error.
public enum MalformedRequestAnswer {
    public static func make(reason: String) -> (requestID: String, body: [UInt8]) {
        let id = RequestIDs.shared.next()
        let body = ErrorBody(error: .init(code: "malformed_request", message: "The request could not be parsed (\(reason))", requestId: id))
        return (id, (try? APIResponseEncoder.bytes(body)) ?? Array(#"{"error":{"code":"malformed_request","message":"The request could not be parsed"}}"#.utf8))
    }
}
