import ArrowCore
import Foundation
import HTTPTypes
import Hummingbird

/// The console's sign-in: `POST /api/auth/session` (email and password → session cookie), `GET /api/auth/session`
/// (who is signed in, with the CSRF token the console's pages send back), `DELETE /api/auth/session` (sign-out: the
/// session's token is revoked and the cookie cleared). The session is an ordinary login token, so it has the role's
/// permissions and nothing more, and revoking it anywhere (`arrow token revoke`) ends the console session too.
struct SessionController {
    let identity: IdentityService
    /// The console's public URL is `https`: cookies get `Secure`.
    let publicURLIsHTTPS: Bool

    func register(on routes: APIRoutes) {
        routes.post("/api/auth/session", .open, use: signIn)
        routes.get("/api/auth/session", .authenticated, use: show)
        routes.delete("/api/auth/session", .authenticated, use: signOut)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        let issued = try await identity.login(email: body.email, password: body.password, client: context.clientAddress)
        let lifetime = max(0, Int(issued.token.expiresAt.map { $0.timeIntervalSinceNow } ?? 12 * 3600))
        let secure = ConsoleSession.isSecure(request, publicURLIsHTTPS: publicURLIsHTTPS)
        let (principal, organization) = try await identity.authenticateWithOrganization(secret: issued.secret)
        var response = try SessionResponse(principal, organization: organization, csrfToken: ConsoleSession.csrfToken(for: issued.secret),
                                           expiresAt: issued.token.expiresAt)
            .response(from: request, context: context)
        response.status = .created
        response.headers[.setCookie] = ConsoleSession.setCookie(secret: issued.secret, maxAge: lifetime, secure: secure)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// For a cookie session, the CSRF token too; a bearer caller gets none (it needs none).
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        var response = try SessionResponse(principal, organization: context.organization,
                                           csrfToken: context.sessionSecret.map(ConsoleSession.csrfToken(for:)), expiresAt: nil)
            .response(from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try await identity.revoke(id: principal.tokenID, scope: .all, actor: principal.user.id)
        var response = Response(status: .noContent)
        response.headers[.setCookie] = ConsoleSession.clearCookie(secure: ConsoleSession.isSecure(request, publicURLIsHTTPS: publicURLIsHTTPS))
        return response
    }
}

struct SessionResponse: ResponseCodable {
    var user: UserDTO
    var organization: OrganizationDTO?
    var role: String
    var permissions: [String]
    var csrfToken: String?
    var expiresAt: Date?

    init(_ principal: Principal, organization: Organization?, csrfToken: String?, expiresAt: Date?) {
        user = UserDTO(principal.user)
        self.organization = organization.map(OrganizationDTO.init)
        role = principal.user.role.rawValue
        permissions = principal.permissions.map(\.rawValue).sorted()
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
    }
}

extension SessionResponse: RedactingReflection {
    var shownFields: KeyValuePairs<String, Any> {
        ["user": user, "role": role, "csrfToken": csrfToken.map(Redacted.init) as Any, "expiresAt": expiresAt as Any]
    }
}
