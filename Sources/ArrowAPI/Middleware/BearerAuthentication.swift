import HTTPTypes
import Logging
import Foundation
import ArrowCore
import Hummingbird

/// Resolves `Authorization: Bearer <token>` to a ``Principal`` on the context, or, without that header, the console's
/// session cookie (``ConsoleSession``), whose state-changing requests must also carry the session's CSRF token. A
/// request with neither passes through unauthenticated (handlers that need a principal ask for one); a malformed or
/// invalid bearer token is refused at once with 401.
///
/// A cookie that cannot be used (expired, revoked, or a state-changing request without its CSRF token) leaves the
/// request unauthenticated and is reported only when a route asks for a principal: the open routes (sign-in, the
/// presigned part uploads the console sends) still work with a stale cookie in the browser.
struct BearerAuthentication: Sendable {
    let identity: IdentityService

    func authenticate(_ request: Request, context: inout AppRequestContext) async throws {
        let secret: String
        if let header = request.headers[.authorization] {
            guard let bearer = Self.bearerToken(header) else {
                throw ArrowError(.unauthorized, reason: "invalid_token", "Expected Authorization: Bearer <token>")
            }
            secret = bearer
        } else if let cookie = request.headers[.cookie], let session = ConsoleSession.secret(fromCookieHeader: cookie) {
            guard ConsoleSession.isSafe(request.method) || ConsoleSession.csrfMatches(request.headers[ConsoleSession.csrfHeader], secret: session) else {
                context.sessionRefusal = ArrowError(.forbidden, reason: "csrf_failed",
                                                    "A request made with the console's session cookie must carry its X-CSRF-Token header")
                return
            }
            do {
                let (principal, organization) = try await identity.authenticateWithOrganization(secret: session)
                context.sessionSecret = session
                set(principal, organization, on: &context)
            } catch let error as ArrowError where error.code == .unauthorized {
                context.sessionRefusal = error
            }
            return
        } else {
            return
        }
        let (principal, organization) = try await identity.authenticateWithOrganization(secret: secret)
        set(principal, organization, on: &context)
    }

    private func set(_ principal: Principal, _ organization: Organization?, on context: inout AppRequestContext) {
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
