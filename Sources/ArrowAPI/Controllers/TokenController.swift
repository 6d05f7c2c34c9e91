import HTTPTypes
import Logging
import ArrowCore
import Foundation
import Hummingbird

/// The caller's own API tokens: `GET|POST /api/tokens`, `DELETE /api/tokens/{token_id}`.
struct TokenController {
    let identity: IdentityService

    func register(on routes: APIRoutes) {
        routes.get("/api/tokens", .permission(.tokenManage), use: list)
        routes.post("/api/tokens", .permission(.tokenManage), use: create)
        routes.delete("/api/tokens/:token_id", .permission(.tokenManage), use: revoke)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse<TokenDTO> {
        let principal = try context.requirePrincipal()
        return ListResponse(items: try await identity.listTokens(of: principal).map(TokenDTO.init))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<IssuedTokenDTO> {
        let principal = try context.requirePrincipal()
        let body = try await request.decode(as: CreateTokenRequest.self, context: context)
        if body.expiresAt != nil && body.expiresInSeconds != nil {
            throw ArrowError(.invalidInput, reason: "invalid_expiry", "Give expires_at or expires_in_seconds, not both")
        }
        let expiresAt = body.expiresAt ?? body.expiresInSeconds.map { Date().addingTimeInterval(TimeInterval($0)) }
        let issued = try await identity.createToken(
            for: principal, name: body.name, scopes: try body.scopes.map(Permission.parse), expiresAt: expiresAt)
        return EditedResponse(status: .created, response: IssuedTokenDTO(issued))
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> TokenDTO {
        let principal = try context.requirePrincipal()
        let id = TokenID(try context.parameters.require("token_id"))
        return TokenDTO(try await identity.revokeToken(id: id, by: principal))
    }
}
