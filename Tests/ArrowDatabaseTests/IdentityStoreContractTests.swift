import ArrowApp
import ArrowCore
import ArrowDatabase
import ArrowTesting
import Foundation
import Logging
import SQLKit
import Synchronization
import Testing

/// The repository contract, run on SQLite and PostgreSQL alike.
@Suite struct IdentityStoreContractTests {
    static func withBackends<R>(_ backend: TestBackend, _ body: (Backends) async throws -> R) async throws -> R {
        let backends = try await Backends.open(try await backend.freshConfiguration(), logger: Logger(label: "test"))
        do {
            let result = try await body(backends)
            try await backends.database.shutdown()
            return result
        } catch {
            try? await backends.database.shutdown()
            throw error
        }
    }

    @Test(arguments: TestBackend.allCases)
    func organizationsAreVisibleOnlyWithinScope(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let orgs = b.store.repositories.organizations
            let alpha = try await b.identity.createOrganization(name: "alpha", actor: nil)
            let beta = try await b.identity.createOrganization(name: "beta", actor: nil)
            #expect(try await orgs.find(id: alpha.id, scope: .all) == alpha)
            #expect(try await orgs.find(id: alpha.id, scope: .organization(alpha.id)) == alpha)
            #expect(try await orgs.find(id: alpha.id, scope: .organization(beta.id)) == nil)
            #expect(try await orgs.find(id: alpha.id, scope: .none) == nil)
            #expect(try await orgs.list(scope: .organization(beta.id)).map(\.name) == ["beta"])
            #expect(try await orgs.list(scope: .all).map(\.name) == ["alpha", "beta"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func duplicateNamesAndEmailsAreConflicts(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let org = try await b.identity.createOrganization(name: "alpha", actor: nil)
            let dupOrg = await #expect(throws: ArrowError.self) { try await b.identity.createOrganization(name: "alpha", actor: nil) }
            #expect(dupOrg?.publicCode == "organization_exists")
            _ = try await b.identity.createUser(organization: org.id, email: "A@Example.org", name: nil, password: "password1", role: .admin, actor: nil)
            let dup = await #expect(throws: ArrowError.self) {
                try await b.identity.createUser(organization: org.id, email: "a@example.org", name: nil, password: "password1", role: .member, actor: nil)
            }
            #expect(dup?.code == .conflict)
            #expect(dup?.publicCode == "email_taken")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func usersAreIsolatedByOrganizationInTheQuery(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let alpha = try await b.identity.createOrganization(name: "alpha", actor: nil)
            let beta = try await b.identity.createOrganization(name: "beta", actor: nil)
            let user = try await b.identity.createUser(organization: alpha.id, email: "a@alpha.io", name: nil, password: "password1", role: .member, actor: nil)
            let users = b.store.repositories.users
            #expect(try await users.find(id: user.id, scope: .organization(alpha.id))?.email == "a@alpha.io")
            #expect(try await users.find(id: user.id, scope: .organization(beta.id)) == nil)
            #expect(try await users.list(organization: alpha.id, scope: .organization(beta.id)).isEmpty)
            #expect(try await users.updateRole(id: user.id, role: .admin, scope: .organization(beta.id)) == nil)
            #expect(try await users.find(id: user.id, scope: .all)?.role == .member)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tokensResolveByDigestAndRevokeWithinScope(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let alpha = try await b.identity.createOrganization(name: "alpha", actor: nil)
            let beta = try await b.identity.createOrganization(name: "beta", actor: nil)
            let user = try await b.identity.createUser(organization: alpha.id, email: "a@alpha.io", name: nil, password: "password1", role: .admin, actor: nil)
            let issued = try await b.identity.issueAPIToken(user: user, name: "ci", scopes: [.imageRead], expiresAt: nil, actor: nil)
            let principal = try await b.identity.authenticate(secret: issued.secret)
            #expect(principal.user.id == user.id)
            #expect(principal.permissions == [.imageRead])
            let tokens = b.store.repositories.tokens
            #expect(try await tokens.revoke(id: issued.token.id, at: Date(), scope: .organization(beta.id)) == nil)
            let revoked = try await tokens.revoke(id: issued.token.id, at: Date(), scope: .organization(alpha.id))
            #expect(revoked?.revokedAt != nil)
            let stored = try await tokens.find(digest: issued.token.digest)
            #expect(stored?.token.revokedAt != nil)
            #expect(stored?.organization?.id == alpha.id)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theAuthenticationCacheNeverOutlivesARevocation(_ backend: TestBackend) async throws {
        var config = try await backend.freshConfiguration()
        config.authCacheTTL = 0.5
        // Two "API nodes" on one database, each with its own cache.
        let nodeA = try await Backends.open(config, logger: Logger(label: "a"))
        let nodeB = try await Backends.open(config, logger: Logger(label: "b"))
        do {
            try await Self.revocationReachesEveryNode(nodeA, nodeB)
            await nodeA.close()
            await nodeB.close()
        } catch {
            await nodeA.close()
            await nodeB.close()
            throw error
        }
    }

    static func revocationReachesEveryNode(_ nodeA: Backends, _ nodeB: Backends) async throws {
        let org = try await nodeA.identity.createOrganization(name: "alpha", actor: nil)
        let user = try await nodeA.identity.createUser(organization: org.id, email: "a@alpha.io", name: nil, password: "password1", role: .admin, actor: nil)
        let issued = try await nodeA.identity.issueAPIToken(user: user, name: "ci", scopes: nil, expiresAt: nil, actor: nil)
        let (principal, organization) = try await nodeA.identity.authenticateWithOrganization(secret: issued.secret)
        #expect(organization?.name == "alpha")
        _ = try await nodeB.identity.authenticate(secret: issued.secret)

        _ = try await nodeA.identity.revoke(id: principal.tokenID, scope: .all, actor: nil)
        // The revoking node refuses at once; the other node within the TTL.
        await #expect(throws: ArrowError.self) { try await nodeA.identity.authenticate(secret: issued.secret) }
        try await Task.sleep(for: .milliseconds(600))
        let late = await #expect(throws: ArrowError.self) { try await nodeB.identity.authenticate(secret: issued.secret) }
        #expect(late?.publicCode == "token_revoked")
    }

    /// A cached token in use is read again just before its entry expires: a revocation made on another node is
    /// seen then, by the request chosen to refresh, and the entry is gone for the requests after it.
    @Test(arguments: TestBackend.allCases)
    func aCachedTokenIsReadAgainBeforeItsEntryExpires(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let clock = ManualClock()
            let node = IdentityService(store: b.store, passwords: b.identity.passwords, secrets: b.identity.secrets, clock: clock,
                                       cache: AuthenticationCache(ttl: 60))
            let org = try await node.createOrganization(name: "alpha", actor: nil)
            let user = try await node.createUser(organization: org.id, email: "a@alpha.io", name: nil, password: "password1", role: .member, actor: nil)
            let issued = try await node.issueAPIToken(user: user, name: "ci", scopes: nil, expiresAt: nil, actor: nil)
            let principal = try await node.authenticate(secret: issued.secret)
            // Revoked on another node (straight in the database): this node's cache does not hear of it.
            #expect(try await b.store.repositories.tokens.revoke(id: principal.tokenID, at: clock.now(), scope: .all) != nil)
            clock.advance(by: 58)
            _ = try await node.authenticate(secret: issued.secret)  // within the TTL, as documented
            clock.advance(by: 1.5)  // in the entry's last second
            let refreshed = await #expect(throws: ArrowError.self) { try await node.authenticate(secret: issued.secret) }
            #expect(refreshed?.publicCode == "token_revoked")
            let after = await #expect(throws: ArrowError.self) { try await node.authenticate(secret: issued.secret) }
            #expect(after?.publicCode == "token_revoked")
        }
    }

    /// A refresh that cannot reach the database keeps answering from the entry while it is valid, and only then
    /// does authentication fail with the database's error.
    @Test(arguments: TestBackend.allCases)
    func aRefreshThatCannotReachTheDatabaseKeepsTheValidEntry(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let clock = ManualClock()
            let store = UnreachableTokensStore(base: b.store)
            let node = IdentityService(store: store, passwords: b.identity.passwords, secrets: b.identity.secrets, clock: clock,
                                       cache: AuthenticationCache(ttl: 60))
            let org = try await node.createOrganization(name: "alpha", actor: nil)
            let user = try await node.createUser(organization: org.id, email: "a@alpha.io", name: nil, password: "password1", role: .member, actor: nil)
            let issued = try await node.issueAPIToken(user: user, name: "ci", scopes: nil, expiresAt: nil, actor: nil)
            let principal = try await node.authenticate(secret: issued.secret)
            store.tokens.down.store(true, ordering: .relaxed)
            clock.advance(by: 59.5)
            #expect(try await node.authenticate(secret: issued.secret) == principal)  // chosen to refresh, read failed
            #expect(try await node.authenticate(secret: issued.secret) == principal)  // the next one tries again
            clock.advance(by: 0.5)
            await #expect(throws: UnreachableTokensStore.Down.self) { try await node.authenticate(secret: issued.secret) }
            store.tokens.down.store(false, ordering: .relaxed)
            #expect(try await node.authenticate(secret: issued.secret) == principal)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func expiredTokensAreRefused(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let clock = ManualClock()
            let identity = IdentityService(store: b.store, passwords: b.identity.passwords, secrets: b.identity.secrets, clock: clock)
            let org = try await identity.createOrganization(name: "alpha", actor: nil)
            let user = try await identity.createUser(organization: org.id, email: "a@alpha.io", name: nil, password: "password1", role: .member, actor: nil)
            let issued = try await identity.issueAPIToken(user: user, name: "short", scopes: nil, expiresAt: clock.now().addingTimeInterval(60), actor: nil)
            clock.advance(by: 59)
            _ = try await identity.authenticate(secret: issued.secret)
            clock.advance(by: 1)
            let error = await #expect(throws: ArrowError.self) { try await identity.authenticate(secret: issued.secret) }
            #expect(error?.publicCode == "token_expired")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func auditLogRecordsIdentityEventsPerOrganization(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let alpha = try await b.identity.createOrganization(name: "alpha", actor: nil)
            let beta = try await b.identity.createOrganization(name: "beta", actor: nil)
            _ = try await b.identity.createUser(organization: alpha.id, email: "a@alpha.io", name: nil, password: "password1", role: .admin, actor: nil)
            _ = try await b.identity.login(email: "a@alpha.io", password: "password1")
            await #expect(throws: ArrowError.self) { try await b.identity.login(email: "a@alpha.io", password: "wrong-password") }
            let events = try await b.store.repositories.audit.list(scope: .organization(alpha.id), limit: 50)
            let actions = events.map(\.action)
            #expect(actions.contains(.loginSucceeded))
            #expect(actions.contains(.loginFailed))
            #expect(actions.contains(.userCreated))
            #expect(events.allSatisfy { $0.organizationID == alpha.id })
            #expect(try await b.store.repositories.audit.list(scope: .organization(beta.id), limit: 50).map(\.action) == [.organizationCreated])
            // Failed logins never record the password.
            #expect(!events.contains { $0.details.values.contains("wrong-password") })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func secretsAreNotStoredInClear(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            let org = try await b.identity.createOrganization(name: "alpha", actor: nil)
            let password = "correct horse battery"
            _ = try await b.identity.createUser(organization: org.id, email: "a@alpha.io", name: nil, password: password, role: .admin, actor: nil)
            let login = try await b.identity.login(email: "a@alpha.io", password: password)
            let user = try await b.store.repositories.users.find(email: "a@alpha.io")!
            let api = try await b.identity.issueAPIToken(user: user, name: "ci", scopes: nil, expiresAt: nil, actor: nil)

            // Read every text column of the rows themselves: neither secret appears anywhere.
            let sql = b.database.sql
            let userRow = try #require(try await sql.raw("SELECT password_hash, email, name FROM users").first())
            let hash = try userRow.decode(column: "password_hash", as: String.self)
            #expect(hash.hasPrefix("$2"))
            #expect(!hash.contains(password))
            let tokenRows = try await sql.raw("SELECT digest, prefix, name FROM api_tokens").all()
            #expect(tokenRows.count == 2)
            for row in tokenRows {
                let digest = try row.decode(column: "digest", as: String.self)
                let prefix = try row.decode(column: "prefix", as: String.self)
                #expect(digest.count == 64)
                for secret in [login.secret, api.secret] {
                    #expect(digest != secret)
                    #expect(!secret.contains(digest))
                    #expect(prefix.count < secret.count / 4)
                }
            }
            let auditText = try await sql.raw("SELECT details FROM audit_log").all().map { try $0.decode(column: "details", as: String.self) }.joined()
            #expect(!auditText.contains(password) && !auditText.contains(login.secret) && !auditText.contains(api.secret))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func transactionsRollBackEveryStatement(_ backend: TestBackend) async throws {
        try await Self.withBackends(backend) { b in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await b.store.transaction { repos in
                    try await repos.organizations.create(Organization(name: "ghost", createdAt: Date()))
                    throw Boom()
                }
            }
            let ghost = try await b.store.repositories.organizations.find(name: "ghost", scope: .all)
            #expect(ghost == nil)
        }
    }
}

/// The data store with a token repository that stops answering on demand.
final class UnreachableTokensStore: DataStore {
    struct Down: Error {}

    final class Tokens: APITokenRepository {
        let base: any APITokenRepository
        let down = Atomic(false)
        init(base: any APITokenRepository) { self.base = base }

        func create(_ token: APIToken) async throws { try await base.create(token) }
        func find(digest: String) async throws -> TokenOwner? {
            if down.load(ordering: .relaxed) { throw Down() }
            return try await base.find(digest: digest)
        }
        func find(id: TokenID, scope: AccessScope) async throws -> APIToken? { try await base.find(id: id, scope: scope) }
        func list(user: UserID) async throws -> [APIToken] { try await base.list(user: user) }
        func revoke(id: TokenID, at: Date, scope: AccessScope) async throws -> APIToken? { try await base.revoke(id: id, at: at, scope: scope) }
    }

    let base: any DataStore
    let tokens: Tokens

    init(base: any DataStore) {
        self.base = base
        tokens = Tokens(base: base.repositories.tokens)
    }

    var repositories: Repositories {
        var repositories = base.repositories
        repositories.tokens = tokens
        return repositories
    }

    func transaction<R: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> R) async throws -> R {
        try await base.transaction(body)
    }

    func statements<R: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> R) async throws -> R {
        try await base.statements(body)
    }

    func ping() async throws { try await base.ping() }
}
