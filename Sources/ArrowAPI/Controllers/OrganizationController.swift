import HTTPTypes
import Logging
import ArrowCore
import Hummingbird

/// Organizations, their users and service accounts, and the audit log.
struct OrganizationController {
    let identity: IdentityService

    func register(on routes: APIRoutes) {
        routes.get("/api/organizations", .authenticated, use: list)
        routes.post("/api/organizations", .superuser(.orgAdmin), use: create)
        routes.get("/api/organizations/:org_id", .authenticated, use: show)
        routes.get("/api/organizations/:org_id/users", .permission(.orgAdmin), use: users)
        routes.post("/api/organizations/:org_id/users", .permission(.orgAdmin), use: createUser)
        routes.patch("/api/organizations/:org_id/users/:user_id", .permission(.orgAdmin), use: updateUser)
        routes.post("/api/organizations/:org_id/service-accounts", .permission(.orgAdmin), use: createServiceAccount)
        routes.get("/api/audit", .permission(.orgAdmin), use: audit)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse<OrganizationDTO> {
        let principal = try context.requirePrincipal()
        return ListResponse(items: try await identity.organizations(visibleTo: principal).map(OrganizationDTO.init))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<OrganizationDTO> {
        let principal = try context.requirePrincipal()
        let body = try await request.decode(as: CreateOrganizationRequest.self, context: context)
        let org = try await identity.createOrganization(name: body.name, actor: principal)
        return EditedResponse(status: .created, response: OrganizationDTO(org))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> OrganizationDTO {
        let principal = try context.requirePrincipal()
        return OrganizationDTO(try await identity.organization(id: try orgID(context), visibleTo: principal))
    }

    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> ListResponse<UserDTO> {
        let principal = try context.requirePrincipal()
        return ListResponse(items: try await identity.users(of: try orgID(context), visibleTo: principal).map(UserDTO.init))
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<UserDTO> {
        let (principal, org) = try orgAdmin(context)
        let body = try await request.decode(as: CreateUserRequest.self, context: context)
        let user = try await identity.createUser(
            organization: org, email: body.email, name: body.name, password: body.password, role: try Role.parse(body.role),
            actor: principal)
        return EditedResponse(status: .created, response: UserDTO(user))
    }

    @Sendable func updateUser(_ request: Request, context: AppRequestContext) async throws -> UserDTO {
        let (principal, org) = try orgAdmin(context)
        let body = try await request.decode(as: UpdateUserRequest.self, context: context)
        let userID = UserID(try context.parameters.require("user_id"))
        return UserDTO(try await identity.changeRole(of: userID, in: org, to: try Role.parse(body.role), by: principal))
    }

    @Sendable func createServiceAccount(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ServiceAccountResponse> {
        let (principal, org) = try orgAdmin(context)
        let body = try await request.decode(as: CreateServiceAccountRequest.self, context: context)
        let (account, issued) = try await identity.createServiceAccount(name: body.name, organization: org, actor: principal)
        return EditedResponse(status: .created, response: ServiceAccountResponse(serviceAccount: UserDTO(account), token: issued.secret))
    }

    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> ListResponse<AuditEventDTO> {
        let principal = try context.requirePrincipal()
        let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
        return ListResponse(items: try await identity.auditLog(visibleTo: principal, limit: limit).map(AuditEventDTO.init))
    }

    /// The caller, who must administer the organization in the path. Checked before the body is read, so a
    /// foreign organization is a 404 whatever was sent.
    private func orgAdmin(_ context: AppRequestContext) throws -> (Principal, OrganizationID) {
        let principal = try context.require(.orgAdmin)
        let org = try orgID(context)
        try principal.requireAccess(to: org)
        return (principal, org)
    }

    private func orgID(_ context: AppRequestContext) throws -> OrganizationID {
        OrganizationID(try context.parameters.require("org_id"))
    }
}
