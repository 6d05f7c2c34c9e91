import ArrowCore
import ArrowTesting
import HummingbirdTesting
import Foundation
import HTTPTypes
import Testing

@Suite struct AuthAPITests {
    @Test(arguments: TestBackend.allCases)
    func loginIssuesATokenThatIdentifiesTheUser(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let login = try await client.send(.post, "/api/auth/login", json: #"{"email":"Admin@Alpha.test","password":"password-a"}"#)
            #expect(login.status == .ok)
            let token = try #require(try login.json()["token"] as? String)
            #expect(token.hasPrefix("arw_") && token.count >= 47)
            let me = try await client.send(.get, "/api/me", token: token)
            #expect(me.status == .ok)
            let body = try me.json()
            #expect((body["user"] as? [String: Any])?["email"] as? String == "admin@alpha.test")
            #expect((body["organization"] as? [String: Any])?["id"] as? String == seed.alpha.id.rawValue)
            #expect(body["role"] as? String == "admin")
            #expect((body["permissions"] as? [String])?.contains("image.admin") == true)
            #expect(!me.text.contains("password_hash") && !me.text.contains("digest"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badCredentialsAndTokensAre401WithStableCodes(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            let wrong = try await client.send(.post, "/api/auth/login", json: #"{"email":"admin@alpha.test","password":"nope-nope"}"#)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "invalid_credentials")
            let unknown = try await client.send(.post, "/api/auth/login", json: #"{"email":"ghost@alpha.test","password":"nope-nope"}"#)
            #expect(unknown.errorCode == "invalid_credentials")
            #expect(try await client.send(.get, "/api/me").errorCode == "missing_token")
            let bogus = try await client.send(.get, "/api/me", token: "arw_not-a-token")
            #expect(bogus.status == .unauthorized)
            #expect(bogus.errorCode == "invalid_token")
            #expect(bogus.headers[.wwwAuthenticate] == "Bearer")
            let basic = try await client.send(.get, "/api/me", headers: [.authorization: "Basic Zm9vOmJhcg=="])
            #expect(basic.errorCode == "invalid_token")
            let malformed = try await client.send(.post, "/api/auth/login", json: #"{"email":1}"#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.errorCode == "invalid_json")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func apiTokensAreShownOnceScopedAndRevocable(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            let created = try await client.send(.post, "/api/tokens", token: try await Self.login(client),
                                                json: #"{"name":"ci","scopes":["image.read"],"expires_in_seconds":3600}"#)
            #expect(created.status == .created)
            let body = try created.json()
            let secret = try #require(body["token"] as? String)
            let record = try #require(body["api_token"] as? [String: Any])
            #expect(record["scopes"] as? [String] == ["image.read"])
            #expect(record["expires_at"] != nil)

            let me = try await client.send(.get, "/api/me", token: secret).json()
            #expect(me["permissions"] as? [String] == ["image.read"])
            // A token scoped to image.read cannot manage the organization.
            #expect(try await client.send(.get, "/api/organizations/\(me["user"].flatMap { ($0 as? [String: Any])?["organization_id"] as? String } ?? "")/users", token: secret).status == .forbidden)

            // Nor manage tokens (token.manage): it lists, mints and revokes nothing, but may sign itself out.
            #expect(try await client.send(.get, "/api/tokens", token: secret).status == .forbidden)
            let id = try #require(record["id"] as? String)
            #expect(try await client.send(.delete, "/api/tokens/\(id)", token: secret).status == .forbidden)
            #expect(try await client.send(.post, "/api/auth/logout", token: secret).status == .noContent)
            let after = try await client.send(.get, "/api/me", token: secret)
            #expect(after.status == .unauthorized)
            #expect(after.errorCode == "token_revoked")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tokensCannotExceedTheirOwner(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let escalate = try await client.send(.post, "/api/tokens", token: seed.alphaMember, json: #"{"name":"x","scopes":["image.admin"]}"#)
            #expect(escalate.status == .unprocessableContent)
            #expect(escalate.errorCode == "invalid_scope")
            let unknown = try await client.send(.post, "/api/tokens", token: seed.alphaMember, json: #"{"name":"x","scopes":["root"]}"#)
            #expect(unknown.errorCode == "invalid_scope")
            let past = try await client.send(.post, "/api/tokens", token: seed.alphaMember, json: #"{"name":"x","expires_at":"2001-01-01T00:00:00Z"}"#)
            #expect(past.status == .badRequest)
            #expect(past.errorCode == "invalid_expiry")
        }
    }

    /// A scoped token never produces or manages more than it holds: no `scopes` means "the same as mine", not the
    /// owner's whole role, and managing tokens needs `token.manage`.
    @Test(arguments: TestBackend.allCases)
    func aScopedTokenMintsNothingBeyondItsScopes(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let readOnly = try #require(try await client.send(.post, "/api/tokens", token: seed.alphaAdmin,
                                                                json: #"{"name":"ro","scopes":["image.read"]}"#).json()["token"] as? String)
            let minted = try await client.send(.post, "/api/tokens", token: readOnly, json: #"{"name":"full"}"#)
            #expect(minted.status == .forbidden)
            #expect(minted.errorCode == "missing_permission")
            let victim = try #require(try await client.send(.get, "/api/tokens", token: seed.alphaAdmin).json()["items"] as? [[String: Any]])
            let other = try #require(victim.first?["id"] as? String)
            #expect(try await client.send(.delete, "/api/tokens/\(other)", token: readOnly).status == .forbidden)
            #expect(try await client.send(.get, "/api/me", token: seed.alphaAdmin).status == .ok)

            // With token.manage, a token without scopes copies the creator's, and more is refused.
            let manager = try #require(try await client.send(.post, "/api/tokens", token: seed.alphaAdmin,
                                                               json: #"{"name":"m","scopes":["image.read","token.manage"]}"#).json()["token"] as? String)
            let copy = try await client.send(.post, "/api/tokens", token: manager, json: #"{"name":"copy"}"#)
            #expect(copy.status == .created)
            let record = try #require(try copy.json()["api_token"] as? [String: Any])
            #expect(record["scopes"] as? [String] == ["image.read", "token.manage"])
            let copied = try #require(try copy.json()["token"] as? String)
            #expect(try await client.send(.get, "/api/me", token: copied).json()["permissions"] as? [String] == ["image.read", "token.manage"])
            let wider = try await client.send(.post, "/api/tokens", token: manager, json: #"{"name":"w","scopes":["image.admin"]}"#)
            #expect(wider.errorCode == "invalid_scope")
            // An unscoped (login or full API) token's copy stays unscoped: it follows the owner's role.
            let full = try await client.send(.post, "/api/tokens", token: seed.alphaAdmin, json: #"{"name":"f"}"#).json()
            let fullRecord = try #require(full["api_token"] as? [String: Any])
            #expect(fullRecord["scopes"] == nil, "no scopes: the role's permissions")
        }
    }

    /// Wrong passwords in a row: free at first, then 429 with Retry-After and a growing wait, checked before the
    /// password (the right one is refused too while the wait lasts); a known and an unknown account answer alike.
    @Test(arguments: TestBackend.allCases)
    func repeatedFailedLoginsAreThrottledAlikeForKnownAndUnknownAccounts(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            func attempt(_ email: String, _ password: String) async throws -> (Int, String?, String?) {
                let response = try await client.send(.post, "/api/auth/login", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
                return (Int(response.status.code), response.errorCode, response.headers[.retryAfter])
            }
            var answers: [String: [(Int, String?, String?)]] = [:]
            for email in ["admin@alpha.test", "nobody@alpha.test"] {
                for _ in 0..<6 { answers[email, default: []].append(try await attempt(email, "wrong-password")) }
                answers[email, default: []].append(try await attempt(email, "password-a"))
            }
            for email in ["admin@alpha.test", "nobody@alpha.test"] {
                let seen = try #require(answers[email])
                #expect(seen.prefix(6).allSatisfy { $0.0 == 401 && $0.1 == "invalid_credentials" }, "\(email): \(seen)")
                #expect(seen[6].0 == 429, "\(email): the right password is refused while the wait lasts")
                #expect(seen[6].1 == "login_throttled")
                #expect(seen[6].2 == "1")
            }
            #expect(answers["admin@alpha.test"]!.map(\.0) == answers["nobody@alpha.test"]!.map(\.0))
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await attempt("admin@alpha.test", "password-a").0 == 200, "after the wait the right password works")
            let audit = try await client.send(.get, "/api/audit?limit=100", token: try await Self.login(client)).text
            #expect(audit.contains("\"throttled\":\"true\""))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func logoutRevokesTheSessionToken(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            let token = try await Self.login(client)
            #expect(try await client.send(.post, "/api/auth/logout", token: token).status == .noContent)
            #expect(try await client.send(.get, "/api/me", token: token).errorCode == "token_revoked")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func roleChangesAreAuditedAndBoundedByTheActor(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let org = seed.beta.id.rawValue
            let promote = try await client.send(.patch, "/api/organizations/\(org)/users/\(seed.betaMemberID)", token: seed.betaAdmin, json: #"{"role":"admin"}"#)
            #expect(promote.status == .ok)
            #expect(try promote.json()["role"] as? String == "admin")
            let toSuper = try await client.send(.patch, "/api/organizations/\(org)/users/\(seed.betaMemberID)", token: seed.betaAdmin, json: #"{"role":"superuser"}"#)
            #expect(toSuper.status == .forbidden)
            let bogus = try await client.send(.patch, "/api/organizations/\(org)/users/\(seed.betaMemberID)", token: seed.betaAdmin, json: #"{"role":"king"}"#)
            #expect(bogus.errorCode == "invalid_role")
            let audit = try await client.send(.get, "/api/audit", token: seed.betaAdmin)
            #expect(audit.text.contains("role.changed"))
            #expect(try await client.send(.get, "/api/audit", token: seed.alphaAdmin).text.contains("role.changed") == false)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func usersCanBeCreatedWithValidatedInput(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let path = "/api/organizations/\(seed.alpha.id)/users"
            let weak = try await client.send(.post, path, token: seed.alphaAdmin, json: #"{"email":"new@alpha.test","password":"short","role":"member"}"#)
            #expect(weak.errorCode == "weak_password")
            let email = try await client.send(.post, path, token: seed.alphaAdmin, json: #"{"email":"not-an-email","password":"longenough","role":"member"}"#)
            #expect(email.errorCode == "invalid_email")
            let ok = try await client.send(.post, path, token: seed.alphaAdmin, json: #"{"email":"new@alpha.test","password":"longenough","role":"member"}"#)
            #expect(ok.status == .created)
            #expect(!ok.text.contains("longenough") && !ok.text.contains("$2"))
            let again = try await client.send(.post, path, token: seed.alphaAdmin, json: #"{"email":"new@alpha.test","password":"longenough","role":"member"}"#)
            #expect(again.status == .conflict)
            #expect(again.errorCode == "email_taken")
            let login = try await client.send(.post, "/api/auth/login", json: #"{"email":"new@alpha.test","password":"longenough"}"#)
            #expect(login.status == .ok)
        }
    }

    static func login(_ client: any TestClientProtocol) async throws -> String {
        let response = try await client.send(.post, "/api/auth/login", json: #"{"email":"admin@alpha.test","password":"password-a"}"#)
        return try #require(try response.json()["token"] as? String)
    }
}
