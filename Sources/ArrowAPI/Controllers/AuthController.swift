import HTTPTypes
import Logging
import ArrowCore
import Hummingbird

/// `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/me`.
struct AuthController {
    let identity: IdentityService

    func register(on routes: APIRoutes) {
        routes.post("/api/auth/login", .open, use: login)
        routes.post("/api/auth/logout", .authenticated, use: logout)
        routes.get("/api/me", .authenticated, use: me)
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> LoginResponse {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        let issued = try await identity.login(email: body.email, password: body.password, client: context.clientAddress)
        return LoginResponse(token: issued.secret, expiresAt: issued.token.expiresAt, user: UserDTO(issued.owner))
    }

    /// Revokes the token the request was made with.
    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePrincipal()
        _ = try await identity.revoke(id: principal.tokenID, scope: .all, actor: principal.user.id)
        return .noContent
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> MeResponse {
        let principal = try context.requirePrincipal()
        let organization = context.organization
        return MeResponse(
            user: UserDTO(principal.user), organization: organization.map(OrganizationDTO.init), role: principal.user.role.rawValue,
            permissions: principal.permissions.map(\.rawValue).sorted(), tokenId: principal.tokenID.rawValue)
    }
}
