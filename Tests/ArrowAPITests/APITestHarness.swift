import ArrowAPI
import ArrowApp
import ArrowCore
import ArrowRegistry
import ArrowTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ArrowBuilds
import ArrowProtocol
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
    /// An active image of organization B.
    var betaImageID: String
    /// An open multipart upload session of organization B's admin.
    var betaUploadID: String = ""
    /// A device request of organization B, triggered by its admin, and its one task.
    var betaDeviceRequestID: String = ""
    var betaTaskID: String = ""
    /// A build template of organization B.
    var betaTemplateID: String = ""
    /// The application's configuration, for tests that reach its database beside the API.
    var configuration: AppConfiguration?
}

enum Harness {
    /// Builds the real application on a fresh database of `backend`, seeds it, and runs `body` against its router.
    static func withApp(
        _ backend: TestBackend, configure: (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (any TestClientProtocol, Seed) async throws -> Void
    ) async throws {
        var config = try await backend.freshConfiguration()
        config.uploadLimits.uploadsPerHour = 1000
        configure(&config)
        let seed = try await seed(config)
        let app = try await buildApplication(config, logger: Logger(label: "test"))
        try await app.test(.router) { client in try await body(client, seed) }
    }

    static func seed(_ config: AppConfiguration) async throws -> Seed {
        try await Backends.using(config, logger: Logger(label: "seed")) { backends in
            var seed = try await seed(AdminOperations(backends: backends))
            seed.betaImageID = try await seedImage(backends, token: seed.betaAdmin)
            seed.betaUploadID = try await seedUploadSession(backends, token: seed.betaAdmin)
            seed.betaDeviceRequestID = "dr-beta-1"
            let betaAdmin = try await backends.identity.authenticate(secret: seed.betaAdmin)
            let (tasks, _) = try await backends.builds.trigger.trigger(ImagingTriggerPayload(
                requestId: seed.betaDeviceRequestID, deviceType: "vm", images: [.init(id: seed.betaImageID, name: "Seed image")],
                organization: seed.beta.id.rawValue, client: "beta-client", timestamp: "2026-11-30T10:00:00Z"), principal: betaAdmin)
            seed.betaTaskID = tasks[0].id.rawValue
            // Canceled at once: the seeded build exists for isolation tests and must not hold the image other tests delete.
            _ = try await backends.builds.queue.cancel(seed.betaTaskID, principal: betaAdmin)
            seed.betaTemplateID = try await backends.builds.templates.create(organization: seed.beta.id.rawValue, TemplateInput(
                name: "beta-template", definition: BuildTemplate.Definition(baseImageId: seed.betaImageID)), principal: betaAdmin).id.rawValue
            seed.configuration = config
            return seed
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
            builder: builder.secret, betaMemberID: betaMember.id, betaAdminTokenID: betaAdminToken.token.id, betaImageID: "")
    }

    /// Uploads a small raw disk through the registry, as `token`'s owner.
    static func seedImage(_ backends: Backends, token: String) async throws -> String {
        let principal = try await backends.identity.authenticate(secret: token)
        let registry = ImageRegistry(store: backends.store, blobs: backends.blobs, logger: Logger(label: "seed"))
        let ticket = try await registry.beginUpload(principal: principal, organization: nil)
        let image = try await registry.upload(
            ticket, fileName: "seed.raw", fileType: nil, body: BlobBody(bytes: [UInt8](repeating: 0, count: 1 << 20)),
            fields: { ImageUploadFields(name: "Seed image") })
        return image.id.rawValue
    }
}

extension Harness {
    /// Opens the application's database and storage beside it (for rows no endpoint writes yet) for `body`.
    static func withBackends<R>(_ seed: Seed, _ body: (Backends) async throws -> R) async throws -> R {
        try await Backends.using(try #require(seed.configuration), logger: Logger(label: "side"), body)
    }

    /// Opens a multipart session for a 20 MiB file, as `token`'s owner.
    static func seedUploadSession(_ backends: Backends, token: String) async throws -> String {
        let principal = try await backends.identity.authenticate(secret: token)
        let registry = ImageRegistry(store: backends.store, blobs: backends.blobs, logger: Logger(label: "seed"))
        let signed = try await registry.startMultipart(
            principal: principal, fileName: "seed.raw", fileType: nil, fileSize: 20 << 20, fields: ImageUploadFields(name: "Seed upload"))
        return signed.session.id.rawValue
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
