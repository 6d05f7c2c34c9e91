import ArrowAPI
import ArrowApp
import ArrowCore
import ArrowTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Seeded identities for API tests: two organizations, an admin and a member in each, a superuser and a builder.
struct Seed: Sendable {
    var alpha: Organization
    var beta: Organization
    var superuser: String
    var alphaAdmin: String
    var alphaMember: String
    var betaAdmin: String
    var betaMember: String
    var builder: String
    var betaMemberID: UserID
    var betaAdminTokenID: TokenID
}

enum Harness {
    /// Builds the real application on a fresh database of `backend`, seeds it, and runs `body` against its router.
    static func withApp(
        _ backend: TestBackend, _ body: @escaping @Sendable (any TestClientProtocol, Seed) async throws -> Void
    ) async throws {
        let config = try await backend.freshConfiguration()
        let seed = try await seed(config)
        let app = try await buildApplication(config, logger: Logger(label: "test"))
        try await app.test(.router) { client in try await body(client, seed) }
    }

    static func seed(_ config: AppConfiguration) async throws -> Seed {
        let backends = try await Backends.open(config, logger: Logger(label: "seed"))
        do {
            let seed = try await seed(AdminOperations(backends: backends))
            await backends.close()
            return seed
        } catch {
            await backends.close()
            throw error
        }
    }

    static func seed(_ admin: AdminOperations) async throws -> Seed {
        let (alpha, _, superToken) = try await admin.initialize(email: "root@arrow.test", password: "rootpassword", organizationName: "alpha")
        let beta = try await admin.createOrganization(name: "beta")
        _ = try await admin.createUser(organization: "alpha", email: "admin@alpha.test", password: "password-a", role: .admin)
        _ = try await admin.createUser(organization: "alpha", email: "member@alpha.test", password: "password-m", role: .member)
        _ = try await admin.createUser(organization: "beta", email: "admin@beta.test", password: "password-b", role: .admin)
        let betaMember = try await admin.createUser(organization: "beta", email: "member@beta.test", password: "password-n", role: .member)
        let betaAdminToken = try await admin.createToken(email: "admin@beta.test", name: "t", scopes: nil, expiresIn: nil)
        let (_, builder) = try await admin.createServiceAccount(name: "builder-1", organization: nil)
        return Seed(
            alpha: alpha, beta: beta, superuser: superToken.secret,
            alphaAdmin: try await admin.createToken(email: "admin@alpha.test", name: "t", scopes: nil, expiresIn: nil).secret,
            alphaMember: try await admin.createToken(email: "member@alpha.test", name: "t", scopes: nil, expiresIn: nil).secret,
            betaAdmin: betaAdminToken.secret,
            betaMember: try await admin.createToken(email: "member@beta.test", name: "t", scopes: nil, expiresIn: nil).secret,
            builder: builder.secret, betaMemberID: betaMember.id, betaAdminTokenID: betaAdminToken.token.id)
    }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The stable error code of an error response.
    var errorCode: String? {
        ((try? json())?["error"] as? [String: Any])?["code"] as? String
    }
}
