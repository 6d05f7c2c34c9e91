import ArrowCore
import Foundation
import Hummingbird

/// The one way JSON request bodies are read: `Content-Type` must say JSON (415 `unsupported_media_type` otherwise),
/// the body is at most 1 MiB, and anything that does not decode is 400 `invalid_json` with a message a user can act on
/// (the field's name and what is wrong), never the decoder's internals.
enum JSONRequestBody {
    static let limit = 1 << 20

    static func bytes(_ request: Request) async throws -> Data {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let type, type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
            throw ArrowError(.unsupportedMediaType, reason: "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json")
        }
        do {
            return Data(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw ArrowError(.payloadTooLarge, reason: "body_too_large", "A JSON body may be at most \(limit >> 10) KiB")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(type, from: try await bytes(request))
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try APIJSON.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw ArrowError(.invalidInput, reason: "invalid_json", message(for: error))
        }
    }

    /// A JSON object, for endpoints that check their keys themselves.
    static func object(_ request: Request) async throws -> [String: Any] {
        let data = try await bytes(request)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ArrowError(.invalidInput, reason: "invalid_json", "The body must be a JSON object")
        }
        return object
    }

    /// `email is missing`, `role must be a string`, `expires_at is not valid`, or that the body is not JSON.
    static func message(for error: DecodingError) -> String {
        func field(_ path: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = (path + (last.map { [$0] } ?? [])).map { key in key.intValue.map { "[\($0)]" } ?? SnakeCaseKeys.convert(name: key.stringValue) }
            return keys.isEmpty ? "the body" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(field(context.codingPath, key)) is missing"
        case .typeMismatch(let type, let context):
            return "\(field(context.codingPath)) must be \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(field(context.codingPath)) must be \(describe(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON" : "\(field(context.codingPath)) is not valid"
        @unknown default:
            return "The body is not valid JSON"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default: type is any Collection.Type ? "a list" : "an object"
        }
    }
}

/// Hummingbird's `request.decode(as:context:)` goes through ``JSONRequestBody`` too.
public struct APIRequestDecoder: RequestDecoder {
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        try await JSONRequestBody.decode(type, from: request)
    }
}
