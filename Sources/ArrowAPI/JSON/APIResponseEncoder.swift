import Foundation
import Hummingbird
import NIOCore

/// Responses as JSON through ``StreamingJSONEncoder``, or through Foundation's encoder (`APIJSON.encoder()`) for a
/// value that uses Codable in a way the streaming encoder does not follow.
public struct APIResponseEncoder: ResponseEncoder {
    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        Self.response(try Self.bytes(value))
    }

    /// A 200 response with `bytes` as its JSON body.
    static func response(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(bytes.count)],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func bytes(_ value: some Encodable) throws -> [UInt8] {
        do {
            let bytes = try StreamingJSONEncoder.encode(value)
            // Debug builds (the test suites) check every response against Foundation's encoder, so each API test
            // also checks that the two agree on what it was sent.
            assert(agree(bytes, value), "StreamingJSONEncoder and JSONEncoder disagree on a \(type(of: value))")
            return bytes
        } catch is StreamingJSONEncoder.Unsupported {
            return Array(try APIJSON.encoder().encode(value))
        }
    }

    /// Whether `bytes` parse to the same document as Foundation's encoding of `value`.
    static func agree(_ bytes: [UInt8], _ value: some Encodable) -> Bool {
        guard let reference = try? APIJSON.encoder().encode(value),
              let expected = try? JSONSerialization.jsonObject(with: reference, options: .fragmentsAllowed) as? NSObject,
              let actual = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) as? NSObject
        else { return false }
        return expected.isEqual(actual)
    }
}
