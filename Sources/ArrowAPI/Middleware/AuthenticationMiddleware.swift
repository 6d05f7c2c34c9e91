import HTTPTypes
import Logging
import Foundation
import ArrowCore
import Hummingbird

/// Resolves `Authorization: Bearer <token>` to a ``Principal`` on the context. A request without the header
/// passes through unauthenticated (handlers that need a principal ask for one); a malformed or invalid token is
/// refused at once with 401.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let identity: IdentityService

    public init(identity: IdentityService) {
        self.identity = identity
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw ArrowError(.unauthorized, reason: "invalid_token", "Expected Authorization: Bearer <token>")
        }
        var context = context
        let (principal, organization) = try await identity.authenticateWithOrganization(
            secret: String(parts[1]).trimmingCharacters(in: .whitespaces))
        context.principal = principal
        context.organization = organization
        context.logger[metadataKey: "user.id"] = .string(principal.user.id.rawValue)
        return try await next(request, context)
    }
}
