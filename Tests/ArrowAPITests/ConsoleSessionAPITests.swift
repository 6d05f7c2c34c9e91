@testable import ArrowAPI
import ArrowCore
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The console's cookie session and its CSRF rule, its pages' security headers, and the build monitor's event stream,
/// over the in-process router on both databases. The browser test (`Tests/Console`, run by `scripts/test.sh`) drives
/// the same through Chromium.
@Suite struct ConsoleSessionAPITests {
    static let cookieName = HTTPField.Name("Cookie")!
    static let csrfName = HTTPField.Name("X-CSRF-Token")!

    /// Signs in as alpha's admin; the session secret (from Set-Cookie) and the CSRF token.
    static func signIn(_ client: some TestClientProtocol, headers: HTTPFields = [:]) async throws -> (cookie: String, csrf: String, setCookie: String) {
        let response = try await client.send(.post, "/api/auth/session", json: #"{"email":"admin@alpha.test","password":"password-a"}"#, headers: headers)
        #expect(response.status == .created)
        let setCookie = try #require(response.headers[.setCookie])
        let secret = try #require(setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last.map(String.init))
        let csrf = try #require(try response.json()["csrf_token"] as? String)
        #expect(!response.text.contains(secret), "the session secret is in the response body")
        return ("\(ConsoleSession.cookieName)=\(secret)", csrf, setCookie)
    }

    @Test(arguments: TestBackend.allCases)
    func signInSetsAnHttpOnlyStrictCookieThatAuthenticatesReads(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let (cookie, csrf, setCookie) = try await Self.signIn(client)
            #expect(setCookie.contains("; HttpOnly") && setCookie.contains("; SameSite=Strict") && setCookie.contains("; Path=/"))
            #expect(!setCookie.contains("Secure"), "Secure on a plain-HTTP console would lose the cookie")
            let session = try await client.send(.get, "/api/auth/session", headers: [Self.cookieName: "theme=dark; \(cookie); other=1"])
            #expect(session.status == .ok)
            #expect(try session.json()["csrf_token"] as? String == csrf)
            #expect(session.headers[.cacheControl] == "no-store")
            let images = try await client.send(.get, "/api/vm_images", headers: [Self.cookieName: cookie])
            #expect(images.status == .ok)
            // Bearer callers get no CSRF token: they need none.
            let bearer = try await client.send(.get, "/api/auth/session", token: seed.alphaAdmin)
            #expect(bearer.status == .ok)
            let bearerBody = try bearer.json()
            #expect(bearerBody["csrf_token"] == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aStateChangingCookieRequestNeedsItsCSRFToken(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let (cookie, csrf, _) = try await Self.signIn(client)
            let path = "/api/organizations/\(seed.alpha.id)/default_images"
            let body = #"{"image_ids":[]}"#
            let forged = try await client.send(.put, path, json: body, headers: [Self.cookieName: cookie])
            #expect(forged.status == .forbidden && forged.errorCode == "csrf_failed")
            let altered = (csrf.first == "A" ? "B" : "A") + csrf.dropFirst()
            let wrong = try await client.send(.put, path, json: body, headers: [Self.cookieName: cookie, Self.csrfName: altered])
            #expect(wrong.status == .forbidden && wrong.errorCode == "csrf_failed")
            // Another session's token does not fit this one.
            let (_, otherCSRF, _) = try await Self.signIn(client)
            let crossed = try await client.send(.put, path, json: body, headers: [Self.cookieName: cookie, Self.csrfName: otherCSRF])
            #expect(crossed.errorCode == "csrf_failed")
            let sent = try await client.send(.put, path, json: body, headers: [Self.cookieName: cookie, Self.csrfName: csrf])
            #expect(sent.status == .ok)
            // Bearer tokens are not cookies: no CSRF token needed, and a cookie beside a bearer token is ignored.
            let bearer = try await client.send(.put, path, token: seed.alphaAdmin, json: body, headers: [Self.cookieName: "\(ConsoleSession.cookieName)=arw_bogus"])
            #expect(bearer.status == .ok)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aStaleCookieDoesNotBlockSignInOrTheOpenRoutes(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            let stale = "\(ConsoleSession.cookieName)=arw_no-such-session"
            let again = try await Self.signIn(client, headers: [Self.cookieName: stale])
            #expect(!again.csrf.isEmpty)
            #expect(try await client.send(.get, "/healthz", headers: [Self.cookieName: stale]).status == .ok)
            let read = try await client.send(.get, "/api/me", headers: [Self.cookieName: stale])
            #expect(read.status == .unauthorized && read.errorCode == "invalid_token")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func signOutRevokesTheSessionAndClearsTheCookie(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            let (cookie, csrf, _) = try await Self.signIn(client)
            let withoutToken = try await client.send(.delete, "/api/auth/session", headers: [Self.cookieName: cookie])
            #expect(withoutToken.errorCode == "csrf_failed", "a cross-site page could sign the user out")
            let out = try await client.send(.delete, "/api/auth/session", headers: [Self.cookieName: cookie, Self.csrfName: csrf])
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.send(.get, "/api/auth/session", headers: [Self.cookieName: cookie])
            #expect(after.status == .unauthorized && after.errorCode == "token_revoked")
        }
    }

    @Test func theCookieIsSecureBehindTLS() async throws {
        try await Harness.withApp(.sqlite) { client, _ in
            let (_, _, setCookie) = try await Self.signIn(client, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(setCookie.hasSuffix("; Secure"))
        }
    }

    @Test func pagesAndScriptsCarryAStrictContentSecurityPolicy() async throws {
        try await Harness.withApp(.sqlite) { client, _ in
            let policy = HTTPField.Name("Content-Security-Policy")!
            for path in ["/console/images", "/console/login", "/console/task", "/console/assets/app.js", "/console/assets/console.css"] {
                let response = try await client.send(.get, path)
                #expect(response.status == .ok, "\(path)")
                let csp = response.headers[policy] ?? ""
                #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self';") && !csp.contains("unsafe"), "\(path): \(csp)")
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
            let page = try await client.send(.get, "/console/images")
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains(#"<script type="module" src="/console/assets/images.js"></script>"#))
            let script = try await client.send(.get, "/console/assets/app.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            let etag = try #require(script.headers[.eTag])
            #expect(try await client.send(.get, "/console/assets/app.js", headers: [.ifNoneMatch: etag]).status == .notModified)
            #expect(try await client.send(.get, "/console/nope").errorCode == "page_not_found")
            #expect(try await client.send(.get, "/console/assets/..%2Fsecrets.key").status == .notFound)
            let root = try await client.send(.get, "/")
            #expect(root.status == .seeOther && root.headers[.location] == "/console/images")
        }
    }

    @Test func theStorageEndpointIsTheOnlyOtherOriginThePolicyAllows() {
        let settings = ConsoleSettings(storageOrigins: ["https://s3.example.org", "https://bucket.s3.example.org"])
        let csp = settings.contentSecurityPolicy
        #expect(csp.contains("connect-src 'self' https://s3.example.org https://bucket.s3.example.org;"))
        #expect(csp.contains("script-src 'self';"))
    }

    @Test(arguments: TestBackend.allCases)
    func theEventStreamListsTheOrganizationsTasksThenReady(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let beta = try await client.send(.get, "/api/vm-build/events?once=true", token: seed.betaAdmin)
            #expect(beta.status == .ok)
            #expect(beta.headers[.contentType] == "text/event-stream")
            #expect(beta.text.contains("event: task\ndata: {") && beta.text.contains(seed.betaTaskID))
            #expect(beta.text.hasSuffix("event: ready\ndata: {}\n\n"))
            let alpha = try await client.send(.get, "/api/vm-build/events?once=true", token: seed.alphaAdmin)
            #expect(!alpha.text.contains(seed.betaTaskID), "another organization's task leaked into the stream")
        }
    }

    @Test func cookieHeadersAreReadStrictly() {
        #expect(ConsoleSession.secret(fromCookieHeader: "arrow_session=abc") == "abc")
        #expect(ConsoleSession.secret(fromCookieHeader: "a=1;  arrow_session=abc ; b=2") == "abc")
        #expect(ConsoleSession.secret(fromCookieHeader: "xarrow_session=abc") == nil)
        #expect(ConsoleSession.secret(fromCookieHeader: "arrow_session=") == nil)
        #expect(ConsoleSession.secret(fromCookieHeader: "arrow_sessionx=abc; other") == nil)
        let token = ConsoleSession.csrfToken(for: "secret")
        #expect(ConsoleSession.csrfMatches(token, secret: "secret"))
        #expect(!ConsoleSession.csrfMatches(String(token.dropLast()), secret: "secret"))
        #expect(!ConsoleSession.csrfMatches(token, secret: "secret2"))
        #expect(!ConsoleSession.csrfMatches(nil, secret: "secret"))
        #expect(!token.contains("+") && !token.contains("/") && !token.contains("="))
    }
}
