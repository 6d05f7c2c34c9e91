import HTTPTypes
import Logging
import Foundation
import ArrowCore
import Hummingbird

/// Resolves `Authorization: Bearer <token>` to a ``Principal`` on the context. A request without the header
/// passes through unauthenticated (handlers that need a principal ask for one); a malformed or invalid token is
/// refused at once with 401.
struct BearerAuthentication: Sendable {
    let identity: IdentityService

    func authenticate(_ request: Request, context: inout AppRequestContext) async throws {
        guard let header = request.headers[.authorization] else { return }
        guard let secret = Self.bearerToken(header) else {
            throw ArrowError(.unauthorized, reason: "invalid_token", "Expected Authorization: Bearer <token>")
        }
        let (principal, organization) = try await identity.authenticateWithOrganization(secret: secret)
        context.principal = principal
        context.organization = organization
        context.logger[metadataKey: "user.id"] = .string(principal.user.id.rawValue)
    }

    /// The token of `Bearer <token>` (scheme in any case, then spaces or tabs), without surrounding blanks; nil for
    /// any other scheme or an empty token. Read byte by byte: splitting, lower-casing and Foundation's trimming
    /// (which bridges through `NSString`) were a twentieth of an authenticated request's CPU.
    static func bearerToken(_ header: String) -> String? {
        let utf8 = header.utf8
        var index = utf8.startIndex
        for letter in "bearer".utf8 {
            // Only the six letters are compared, and OR-ing 0x20 maps each upper-case letter to its lower case.
            guard index != utf8.endIndex, utf8[index] | 0x20 == letter else { return nil }
            index = utf8.index(after: index)
        }
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard index != utf8.endIndex, isBlank(utf8[index]) else { return nil }
        var end = utf8.endIndex
        while index != end, isBlank(utf8[index]) { index = utf8.index(after: index) }
        while end != index, isBlank(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        guard index != end else { return nil }
        return String(header[index..<end])
    }
}
