import ArrowCore
import ArrowDatabase
import Foundation

/// The bootstrap operations behind `arrow admin …`. They work on the configured database directly, with no
/// server and no token, which is what a first start (or a lost admin password) needs; everything is still
/// validated and audited by ``IdentityService``, with no actor recorded.
public struct AdminOperations: Sendable {
    public let backends: Backends
    private var identity: IdentityService { backends.identity }

    public init(backends: Backends) {
        self.backends = backends
    }

    /// Creates the first organization and superuser and returns a token for them.
    /// - Throws: `conflict` (`already_initialized`) when a superuser exists.
    public func initialize(email: String, password: String, organizationName: String) async throws -> (Organization, User, IssuedToken) {
        if try await backends.store.repositories.users.exists(role: .superuser) {
            throw ArrowError(.conflict, reason: "already_initialized", "A superuser exists already; use `arrow admin token create` for a new token")
        }
        let org: Organization
        if let existing = try await identity.findOrganization(organizationName) {
            org = existing
        } else {
            org = try await identity.createOrganization(name: organizationName, actor: nil)
        }
        let user = try await identity.createUser(
            organization: org.id, email: email, name: nil, password: password, role: .superuser, actor: nil)
        let token = try await identity.issueAPIToken(user: user, name: "admin init", scopes: nil, expiresAt: nil, actor: nil)
        return (org, user, token)
    }

    public func createOrganization(name: String) async throws -> Organization {
        try await identity.createOrganization(name: name, actor: nil)
    }

    public func createUser(organization: String, email: String, password: String, role: Role) async throws -> User {
        try await identity.createUser(
            organization: try await resolve(organization).id, email: email, name: nil, password: password, role: role, actor: nil)
    }

    /// Creates an API token for the user with `email`.
    public func createToken(email: String, name: String, scopes: Set<Permission>?, expiresIn: TimeInterval?) async throws -> IssuedToken {
        guard let user = try await backends.store.repositories.users.find(email: email.lowercased()) else {
            throw ArrowError.notFound("User \(email)")
        }
        if let scopes, !scopes.isSubset(of: user.role.permissions) {
            throw ArrowError(.unprocessable, reason: "invalid_scope", "A token cannot hold permissions its owner lacks")
        }
        return try await identity.issueAPIToken(
            user: user, name: name, scopes: scopes, expiresAt: expiresIn.map { Date().addingTimeInterval($0) }, actor: nil)
    }

    public func revokeToken(id: String) async throws -> APIToken {
        try await identity.revoke(id: TokenID(id), scope: .all, actor: nil)
    }

    public func createServiceAccount(name: String, organization: String?) async throws -> (User, IssuedToken) {
        var org: OrganizationID?
        if let organization { org = try await resolve(organization).id }
        return try await identity.createServiceAccount(name: name, organization: org, actor: nil)
    }

    private func resolve(_ idOrName: String) async throws -> Organization {
        guard let org = try await identity.findOrganization(idOrName) else {
            throw ArrowError.notFound("Organization \(idOrName)")
        }
        return org
    }
}
