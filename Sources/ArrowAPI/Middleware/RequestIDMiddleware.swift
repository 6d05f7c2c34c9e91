import HTTPTypes
import Foundation
import Hummingbird
import Logging

/// Gives every request an id: the caller's `X-Request-ID` when it is a sane token, otherwise a new one. The id
/// goes into every log line of the request (`request.id`) and back in the `X-Request-ID` response header.
///
/// Outermost middleware: the error middleware inside it has already turned every failure into a response.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[.xRequestID].flatMap(Self.accept) ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.logger[metadataKey: "request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.xRequestID] = id
        return response
    }

    /// Accepts 1–128 characters of `[A-Za-z0-9._-]`, so a caller cannot inject text into logs.
    static func accept(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else { return nil }
        return value
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
}
