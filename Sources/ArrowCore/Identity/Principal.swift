/// Who is making a request: the authenticated user (or service account) and what the presented token allows.
public struct Principal: Sendable, Equatable {
    public var user: User
    public var tokenID: TokenID
    /// The role's permissions, narrowed by the token's scopes.
    public var permissions: Set<Permission>
    /// Whether the presented token carries scopes of its own (nil scopes follow the role).
    public var tokenIsScoped: Bool

    public init(user: User, tokenID: TokenID, permissions: Set<Permission>, tokenIsScoped: Bool = false) {
        self.user = user
        self.tokenID = tokenID
        self.permissions = permissions
        self.tokenIsScoped = tokenIsScoped
    }

    public var isSuperuser: Bool { user.role == .superuser }

    /// The data this principal may see: every organization for a superuser, otherwise its own.
    public var scope: AccessScope {
        if isSuperuser { return .all }
        if let org = user.organizationID { return .organization(org) }
        // A global service account sees every organization, but holds only the builder permission.
        return user.kind == .service ? .all : .none
    }

    /// Throws `forbidden` unless the principal holds `permission`.
    public func require(_ permission: Permission) throws {
        guard permissions.contains(permission) else {
            throw ArrowError(.forbidden, reason: "missing_permission", "This action needs the \(permission.rawValue) permission")
        }
    }

    /// Throws `forbidden` for a service account: builders reach only the builder endpoints.
    public func requireHuman() throws {
        guard user.kind == .human else {
            throw ArrowError(.forbidden, reason: "service_account", "Service accounts may use only the builder endpoints")
        }
    }

    /// Throws `not_found` unless `organization` is within reach (404 rather than 403, so foreign ids are not confirmed).
    public func requireAccess(to organization: OrganizationID) throws {
        guard scope.includes(organization) else { throw ArrowError.notFound("Organization") }
    }
}

/// The organizations a query may touch. Repositories apply it in the query itself, so isolation does not
/// depend on every handler remembering a check.
public enum AccessScope: Sendable, Equatable {
    case all
    case organization(OrganizationID)
    /// Nothing (a principal with no organization and no global reach).
    case none

    public func includes(_ organization: OrganizationID?) -> Bool {
        switch self {
        case .all: return true
        case .organization(let id): return organization == id
        case .none: return false
        }
    }
}
