import Foundation

/// Organizations, users, tokens and the audit trail: every identity rule lives here, behind the ports, so the
/// API and the admin CLI enforce the same rules.
public struct IdentityService: Sendable {
    public let store: any DataStore
    public let passwords: any PasswordHasher
    public let secrets: any TokenSecrets
    public let clock: any Clock
    /// Lifetime of tokens issued by login.
    public var sessionLifetime: TimeInterval
    public let cache: AuthenticationCache
    public let throttle: LoginThrottle

    public init(
        store: any DataStore, passwords: any PasswordHasher, secrets: any TokenSecrets, clock: any Clock = SystemClock(),
        sessionLifetime: TimeInterval = 12 * 3600, cache: AuthenticationCache = AuthenticationCache(ttl: 0),
        throttle: LoginThrottle = LoginThrottle()
    ) {
        self.throttle = throttle
        self.store = store
        self.passwords = passwords
        self.secrets = secrets
        self.clock = clock
        self.sessionLifetime = sessionLifetime
        self.cache = cache
    }

    private var repos: Repositories { store.repositories }

    // MARK: Authentication

    /// Verifies email and password and issues a session token. Throttled per account and per client address
    /// (``LoginThrottle``): a throttled attempt is refused before the password is checked.
    /// - Throws: `unauthorized` (`invalid_credentials`) for any mismatch, without saying which part was wrong;
    ///   `rate_limited` (`login_throttled`, with the seconds to wait) after repeated failures.
    public func login(email: String, password: String, client: String? = nil) async throws -> IssuedToken {
        let email = Self.normalize(email: email)
        do {
            try throttle.check(email: email, address: client, now: clock.now())
        } catch {
            // Recorded in the account's organization, where its admins look (the same query runs for unknown emails).
            let user = try await repos.users.find(email: email)
            try await repos.audit.append(AuditEvent(
                organizationID: user?.organizationID, actorID: user?.id, action: .loginFailed, target: nil,
                details: ["email": email, "client": client ?? "unknown", "throttled": "true"], createdAt: clock.now()))
            throw error
        }
        let user = try await repos.users.find(email: email)
        // Verify against a fixed hash when the user is unknown, so timing does not reveal which emails exist.
        let hash = user?.passwordHash ?? Self.unusableHash
        let matches = try await passwords.verify(password, hash: hash)
        guard let user, user.kind == .human, user.passwordHash != nil, matches else {
            throttle.failed(email: email, address: client, now: clock.now())
            try await repos.audit.append(AuditEvent(
                organizationID: user?.organizationID, actorID: user?.id, action: .loginFailed, target: nil,
                details: ["email": email, "client": client ?? "unknown"], createdAt: clock.now()))
            throw ArrowError(.unauthorized, reason: "invalid_credentials", "Email or password is wrong")
        }
        throttle.succeeded(email: email)
        let now = clock.now()
        return try await store.transaction { repos in
            let issued = try self.makeToken(for: user, name: "login", kind: .session, scopes: nil,
                                            expiresAt: now.addingTimeInterval(self.sessionLifetime), now: now)
            try await repos.tokens.create(issued.token)
            try await repos.audit.append(AuditEvent(
                organizationID: user.organizationID, actorID: user.id, action: .loginSucceeded,
                target: user.id.rawValue, createdAt: now))
            return issued
        }
    }

    /// Resolves a bearer token to a principal.
    /// - Throws: `unauthorized` with reason `invalid_token`, `token_expired` or `token_revoked`.
    public func authenticate(secret: String) async throws -> Principal {
        try await authenticateWithOrganization(secret: secret).0
    }

    /// Resolves a bearer token to a principal and its own organization, in one database query (or none, when
    /// the ``AuthenticationCache`` has it).
    public func authenticateWithOrganization(secret: String) async throws -> (Principal, Organization?) {
        let digest = secrets.digest(secret)
        let now = clock.now()
        let ticket: AuthenticationCache.Ticket
        var stillValid: AuthenticationCache.Entry?
        switch cache.lookup(digest, now: now) {
        case .fresh(let entry): return (entry.principal, entry.organization)
        case .refresh(let entry, let refreshTicket): (ticket, stillValid) = (refreshTicket, entry)
        case .miss(let missTicket): ticket = missTicket
        }
        let found: TokenOwner?
        do {
            found = try await repos.tokens.find(digest: digest)
        } catch {
            // A refresh that cannot read the database keeps the entry, valid until it expires, in use.
            guard let stillValid else { throw error }
            cache.refreshFailed(digest)
            return (stillValid.principal, stillValid.organization)
        }
        guard let found else {
            cache.remove(digest)
            throw ArrowError(.unauthorized, reason: "invalid_token", "The token is not valid")
        }
        if found.token.revokedAt != nil {
            cache.remove(digest)
            throw ArrowError(.unauthorized, reason: "token_revoked", "The token has been revoked")
        }
        if let expiry = found.token.expiresAt, expiry <= now {
            cache.remove(digest)
            throw ArrowError(.unauthorized, reason: "token_expired", "The token has expired")
        }
        let role = found.user.role.permissions
        let principal = Principal(user: found.user, tokenID: found.token.id, permissions: role.intersection(found.token.scopes ?? role),
                                  tokenIsScoped: found.token.scopes != nil)
        cache.store(digest, principal: principal, organization: found.organization, tokenExpiry: found.token.expiresAt, now: now, ticket: ticket)
        return (principal, found.organization)
    }

    // MARK: Tokens

    /// Creates an API token for the caller itself. The new token never holds more than the presenting one: its
    /// scopes must be a subset of the caller's effective permissions, and no `scopes` means "the same as mine"
    /// (a scoped token's permissions, or the role's for an unscoped one).
    /// - Throws: `forbidden` without `token.manage`; `unprocessable` (`invalid_scope`) when a scope exceeds the
    ///   caller's permissions; `invalid_input` for a past expiry or an empty name.
    public func createToken(
        for principal: Principal, name: String, scopes: Set<Permission>?, expiresAt: Date?
    ) async throws -> IssuedToken {
        try principal.requireHuman()
        try principal.require(.tokenManage)
        try Self.validate(name: name, field: "name")
        if let scopes, !scopes.isSubset(of: principal.permissions) {
            let extra = scopes.subtracting(principal.permissions).map(\.rawValue).sorted().joined(separator: ", ")
            throw ArrowError(.unprocessable, reason: "invalid_scope", "A token cannot hold permissions its creator lacks: \(extra)")
        }
        let granted = scopes ?? (principal.tokenIsScoped ? principal.permissions : nil)
        return try await issueAPIToken(user: principal.user, name: name, scopes: granted, expiresAt: expiresAt,
                                       actor: principal.user.id)
    }

    /// Creates an API token for any user (bootstrap CLI, service accounts).
    public func issueAPIToken(
        user: User, name: String, scopes: Set<Permission>?, expiresAt: Date?, actor: UserID?
    ) async throws -> IssuedToken {
        let now = clock.now()
        if let expiresAt, expiresAt <= now {
            throw ArrowError(.invalidInput, reason: "invalid_expiry", "The expiry must be in the future")
        }
        return try await store.transaction { repos in
            let issued = try self.makeToken(for: user, name: name, kind: .api, scopes: scopes, expiresAt: expiresAt, now: now)
            try await repos.tokens.create(issued.token)
            try await repos.audit.append(AuditEvent(
                organizationID: user.organizationID, actorID: actor, action: .tokenCreated, target: issued.token.id.rawValue,
                details: ["user": user.id.rawValue, "name": name], createdAt: now))
            return issued
        }
    }

    /// Tokens of the caller.
    public func listTokens(of principal: Principal) async throws -> [APIToken] {
        try principal.requireHuman()
        try principal.require(.tokenManage)
        return try await repos.tokens.list(user: principal.user.id)
    }

    /// Revokes a token: one's own (`token.manage`), or, for an org admin, one of a user in the same organization
    /// (`token.manage` and `org.admin`). Signing out (``revoke(id:scope:actor:)`` of the presented token) needs neither.
    /// - Throws: `forbidden` without `token.manage`; `not_found` when the token is out of reach.
    public func revokeToken(id: TokenID, by principal: Principal) async throws -> APIToken {
        try principal.requireHuman()
        try principal.require(.tokenManage)
        let scope: AccessScope
        if try await repos.tokens.list(user: principal.user.id).contains(where: { $0.id == id }) {
            scope = .all
        } else if principal.permissions.contains(.orgAdmin) {
            scope = principal.scope
        } else {
            throw ArrowError.notFound("Token")
        }
        return try await revoke(id: id, scope: scope, actor: principal.user.id)
    }

    /// Revokes a token within `scope` (the CLI passes `.all`).
    public func revoke(id: TokenID, scope: AccessScope, actor: UserID?) async throws -> APIToken {
        let now = clock.now()
        return try await store.transaction { repos in
            guard let token = try await repos.tokens.revoke(id: id, at: now, scope: scope) else {
                throw ArrowError.notFound("Token")
            }
            self.cache.invalidate(token: id)
            let owner = try await repos.users.find(id: token.userID, scope: .all)
            try await repos.audit.append(AuditEvent(
                organizationID: owner?.organizationID, actorID: actor, action: .tokenRevoked, target: id.rawValue,
                createdAt: now))
            return token
        }
    }

    // MARK: Organizations and users

    public func createOrganization(name: String, actor: Principal?) async throws -> Organization {
        try actor?.requireHuman()
        if let actor, !actor.isSuperuser { throw ArrowError.forbidden("Only a superuser can create organizations") }
        try Self.validate(name: name, field: "name")
        let now = clock.now()
        let org = Organization(name: name.trimmingCharacters(in: .whitespaces), createdAt: now)
        try await store.transaction { repos in
            try await repos.organizations.create(org)
            try await repos.audit.append(AuditEvent(
                organizationID: org.id, actorID: actor?.user.id, action: .organizationCreated, target: org.id.rawValue,
                details: ["name": org.name], createdAt: now))
        }
        return org
    }

    public func organizations(visibleTo principal: Principal) async throws -> [Organization] {
        try principal.requireHuman()
        return try await repos.organizations.list(scope: principal.scope)
    }

    public func organization(id: OrganizationID, visibleTo principal: Principal) async throws -> Organization {
        try principal.requireHuman()
        guard let org = try await repos.organizations.find(id: id, scope: principal.scope) else {
            throw ArrowError.notFound("Organization")
        }
        return org
    }

    /// Resolves an organization by id or by name (CLI convenience).
    public func findOrganization(_ idOrName: String) async throws -> Organization? {
        if let org = try await repos.organizations.find(id: OrganizationID(idOrName), scope: .all) { return org }
        return try await repos.organizations.find(name: idOrName, scope: .all)
    }

    /// Creates a human user in `organization`.
    /// - Throws: `forbidden` when the actor may not grant `role`; `conflict` (`email_taken`);
    ///   `unprocessable` (`weak_password`, `invalid_email`).
    public func createUser(
        organization: OrganizationID, email: String, name: String?, password: String, role: Role, actor: Principal?
    ) async throws -> User {
        if let actor {
            try actor.require(.orgAdmin)
            try actor.requireAccess(to: organization)
            try Self.checkGrant(of: role, by: actor)
        }
        guard role != .builder else {
            throw ArrowError(.unprocessable, reason: "invalid_role", "Service accounts are created as service accounts")
        }
        let email = Self.normalize(email: email)
        try Self.validate(email: email)
        try Self.validate(password: password)
        guard try await repos.organizations.find(id: organization, scope: .all) != nil else {
            throw ArrowError.notFound("Organization")
        }
        let now = clock.now()
        let user = User(organizationID: organization, email: email, name: name ?? email, role: role,
                        passwordHash: try await passwords.hash(password), createdAt: now)
        try await store.transaction { repos in
            try await repos.users.create(user)
            try await repos.audit.append(AuditEvent(
                organizationID: organization, actorID: actor?.user.id, action: .userCreated, target: user.id.rawValue,
                details: ["email": email, "role": role.rawValue], createdAt: now))
        }
        return user
    }

    /// Creates a builder service account and its first token. `organization` nil makes a global builder
    /// (superuser only).
    public func createServiceAccount(name: String, organization: OrganizationID?, actor: Principal?) async throws -> (User, IssuedToken) {
        try Self.validate(name: name, field: "name")
        if let actor {
            try actor.require(.orgAdmin)
            if let organization { try actor.requireAccess(to: organization) } else if !actor.isSuperuser {
                throw ArrowError.forbidden("Only a superuser can create a service account for every organization")
            }
        }
        if let organization, try await repos.organizations.find(id: organization, scope: .all) == nil {
            throw ArrowError.notFound("Organization")
        }
        let now = clock.now()
        let slug = name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let account = User(organizationID: organization, email: "\(String(slug))+\(UUID().uuidString.prefix(8).lowercased())@service.arrow",
                           name: name, role: .builder, kind: .service, passwordHash: nil, createdAt: now)
        let issued = try await store.transaction { repos in
            try await repos.users.create(account)
            let issued = try self.makeToken(for: account, name: name, kind: .api, scopes: nil, expiresAt: nil, now: now)
            try await repos.tokens.create(issued.token)
            try await repos.audit.append(AuditEvent(
                organizationID: organization, actorID: actor?.user.id, action: .serviceAccountCreated,
                target: account.id.rawValue, details: ["name": name], createdAt: now))
            return issued
        }
        return (account, issued)
    }

    public func users(of organization: OrganizationID, visibleTo principal: Principal) async throws -> [User] {
        try principal.require(.orgAdmin)
        try principal.requireAccess(to: organization)
        return try await repos.users.list(organization: organization, scope: principal.scope)
    }

    /// Changes a user's role. Only a superuser grants or removes `superuser`; nobody changes their own role.
    public func changeRole(of userID: UserID, in organization: OrganizationID, to role: Role, by principal: Principal) async throws -> User {
        try principal.require(.orgAdmin)
        try principal.requireAccess(to: organization)
        try Self.checkGrant(of: role, by: principal)
        guard role != .builder else { throw ArrowError(.unprocessable, reason: "invalid_role", "A user cannot become a builder") }
        guard userID != principal.user.id else {
            throw ArrowError(.forbidden, reason: "own_role", "You cannot change your own role")
        }
        let now = clock.now()
        return try await store.transaction { repos in
            guard let before = try await repos.users.find(id: userID, scope: principal.scope),
                  before.organizationID == organization, before.kind == .human
            else { throw ArrowError.notFound("User") }
            if before.role == .superuser && !principal.isSuperuser { throw ArrowError.forbidden() }
            guard let after = try await repos.users.updateRole(id: userID, role: role, scope: principal.scope) else {
                throw ArrowError.notFound("User")
            }
            self.cache.invalidate(user: userID)
            try await repos.audit.append(AuditEvent(
                organizationID: organization, actorID: principal.user.id, action: .roleChanged, target: userID.rawValue,
                details: ["from": before.role.rawValue, "to": role.rawValue], createdAt: now))
            return after
        }
    }

    public func auditLog(visibleTo principal: Principal, limit: Int) async throws -> [AuditEvent] {
        try principal.require(.orgAdmin)
        return try await repos.audit.list(scope: principal.scope, limit: min(max(limit, 1), 1000))
    }

    // MARK: Helpers

    private func makeToken(for user: User, name: String, kind: APIToken.Kind, scopes: Set<Permission>?, expiresAt: Date?, now: Date) throws -> IssuedToken {
        let secret = secrets.generate()
        let token = APIToken(userID: user.id, name: name, kind: kind, digest: secrets.digest(secret),
                             prefix: String(secret.prefix(8)), scopes: scopes, expiresAt: expiresAt, createdAt: now)
        return IssuedToken(token: token, secret: secret, owner: user)
    }

    private static func checkGrant(of role: Role, by actor: Principal) throws {
        if role == .superuser && !actor.isSuperuser {
            throw ArrowError.forbidden("Only a superuser can grant the superuser role")
        }
    }

    static func normalize(email: String) -> String { email.trimmingCharacters(in: .whitespaces).lowercased() }

    static func validate(email: String) throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), email.count <= 254,
              !email.contains(where: { $0.isWhitespace })
        else { throw ArrowError(.unprocessable, reason: "invalid_email", "Not a valid email address") }
    }

    static func validate(password: String) throws {
        guard password.count >= 8 else {
            throw ArrowError(.unprocessable, reason: "weak_password", "A password needs at least 8 characters")
        }
        guard password.utf8.count <= 72 else {
            // bcrypt reads only the first 72 bytes; a longer password would silently be truncated.
            throw ArrowError(.unprocessable, reason: "password_too_long", "A password may have at most 72 bytes")
        }
    }

    static func validate(name: String, field: String) throws {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw ArrowError(.invalidInput, reason: "invalid_\(field)", "\(field) must be 1 to 200 characters")
        }
    }

    /// A bcrypt hash (cost 12) of a random string nobody knows, for constant-time failed logins.
    public static let unusableHash = "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5Jo1Qq2hV6G9R1JFxF0sZJ3O.Jy5d7K"
}

/// A freshly created token: the stored record, the secret (shown once, never stored) and its owner.
public struct IssuedToken: Sendable {
    public var token: APIToken
    public var secret: String
    public var owner: User

    public init(token: APIToken, secret: String, owner: User) {
        self.token = token
        self.secret = secret
        self.owner = owner
    }
}

extension IssuedToken: RedactingReflection {
    public var shownFields: KeyValuePairs<String, Any> { ["token": token, "secret": Redacted(secret), "owner": owner] }
}
