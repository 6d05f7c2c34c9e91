import ArrowAPI
import ArrowApp
import ArrowBuilds
import ArrowProtocol
import ArrowCore
import ArrowDatabase
import ArrowRegistry
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// For every route the router declares with a permission, every caller role and every token scope set: the route
/// answers success exactly when the permission is in both the role's permissions and the token's scopes (and the
/// caller is a superuser where the route says so), and 403 otherwise. Routes come from the router's own
/// declarations, so a new route without a request here fails the test.
@Suite struct PermissionMatrixTests {
    /// A request that succeeds for a caller allowed to make it; built fresh per attempt (deletions need new rows).
    typealias Recipe = @Sendable (MatrixWorld, Caller) async throws -> MatrixRequest

    struct MatrixRequest {
        var path: String
        var json: String?
        var form: ImageFixtures.Form?
        /// Raw bytes (an artifact upload).
        var body: [UInt8]?
        var headers: HTTPFields = [:]
    }

    struct Caller: Sendable, CustomStringConvertible {
        let email: String
        let role: Role
        let token: String
        let scopes: Set<Permission>?
        var description: String { "\(role.rawValue) scopes=\(scopes.map { $0.map(\.rawValue).sorted().description } ?? "full")" }
    }

    /// The world the recipes build their fixtures in: organization alpha, through its admin's full token and the
    /// application's own backends beside the API.
    struct MatrixWorld: Sendable {
        let client: any TestClientProtocol
        let seed: Seed
        let backends: Backends
        /// An active image of alpha that no recipe removes.
        var alphaImage = ""

        var alpha: String { seed.alpha.id.rawValue }

        func image() async throws -> String {
            let response = try await client.upload(ImageFixtures.raw((1 << 20) + 512), as: "m.raw", token: seed.alphaAdmin)
            return try #require(try response.json()["id"] as? String, "\(response.text)")
        }

        func metadataFile(on image: String) async throws -> String {
            let response = try await MetadataFileAPITests.add(client, image: image, MetadataFileAPITests.png(), as: "t.png", token: seed.alphaAdmin)
            return try #require(try response.json()["id"] as? String, "\(response.text)")
        }

        func sharedImage() async throws -> String {
            let image = try await image()
            let shared = try await client.send(.post, "/api/vm_images/\(image)/shares", token: seed.alphaAdmin,
                                               json: #"{"organization_id":"\#(seed.beta.id.rawValue)"}"#)
            #expect(shared.status == .created)
            return image
        }

        /// A multipart session of `caller` (sessions belong to their uploader; alpha's admin's for a caller whose role
        /// cannot upload, who is refused before the session is looked up), with every part stored if `uploaded`.
        func session(of caller: Caller, uploaded: Bool) async throws -> String {
            let email = caller.role.permissions.contains(.imageUpload) ? caller.email : "admin@alpha.test"
            let owner = try await AdminOperations(backends: backends).createToken(email: email, name: "owner", scopes: nil, expiresIn: nil)
            let bytes = ImageFixtures.raw(2 << 20)
            let signed = try await backends.images.startMultipart(
                principal: try await backends.identity.authenticate(secret: owner.secret), fileName: "s.raw", fileType: nil,
                fileSize: Int64(bytes.count), fields: ImageUploadFields(name: "matrix"))
            if uploaded { try await uploadParts(signed, bytes: bytes, blobs: backends.blobs) }
            return signed.session.id.rawValue
        }

        func token(of caller: Caller) async throws -> String {
            try await AdminOperations(backends: backends).createToken(email: caller.email, name: "victim", scopes: nil, expiresIn: nil).token.id.rawValue
        }

        /// A token with exactly `scopes`, written to the repository: scopes beyond the role cannot be minted through
        /// the API, but a token made before its owner lost a role holds them, and they must not count.
        func mint(email: String, scopes: Set<Permission>?) async throws -> String {
            let user = try #require(try await backends.store.repositories.users.find(email: email))
            let secret = backends.identity.secrets.generate()
            try await backends.store.repositories.tokens.create(APIToken(
                userID: user.id, name: "matrix", kind: .api, digest: backends.identity.secrets.digest(secret),
                prefix: String(secret.prefix(8)), scopes: scopes, expiresAt: nil, createdAt: Date()))
            return secret
        }

        /// A task of alpha in `status`, written to the queue directly.
        func task(_ status: BuildTaskStatus = .queued) async throws -> String {
            let task = BuildTask(organizationID: seed.alpha.id, imageID: ImageID(alphaImage), client: "acme", status: status,
                                 createdBy: nil, createdAt: Date())
            try await backends.store.enqueue(task)
            return task.id.rawValue
        }

        /// A device request of alpha, through the trigger.
        func deviceRequest() async throws -> String {
            let id = "dr-\(PermissionMatrixTests.unique())"
            let admin = try await backends.identity.authenticate(secret: seed.alphaAdmin)
            _ = try await backends.builds.trigger.trigger(ImagingTriggerPayload(
                requestId: id, deviceType: "vm", images: [.init(id: alphaImage, name: "m")], organization: alpha, client: "acme",
                timestamp: "2026-11-30T10:00:00Z"), principal: admin)
            return id
        }

        /// A fresh task claimed by the seeded builder: its lease fields as JSON members, plus `extra`.
        func leased(_ extra: String) async throws -> String {
            _ = try await task()
            let builder = try await backends.identity.authenticate(secret: seed.builder)
            let claim = try #require(try await backends.builds.queue.claim(
                ClaimRequest(builder: BuilderRegistration(name: "matrix", version: "1", deviceTypes: ["vm"])), principal: builder))
            return #"{"task_id":"\#(claim.task.id)","attempt":\#(claim.lease.attempt),"lease_token":"\#(claim.lease.token)",\#(extra)}"#
        }

        /// A fresh task claimed by the seeded builder, and its lease as the headers a builder's GET carries.
        func leaseHeaders() async throws -> (task: String, headers: HTTPFields) {
            _ = try await task()
            let builder = try await backends.identity.authenticate(secret: seed.builder)
            let claim = try #require(try await backends.builds.queue.claim(
                ClaimRequest(builder: BuilderRegistration(name: "matrix", version: "1", deviceTypes: ["vm"])), principal: builder))
            var headers = HTTPFields()
            headers[HTTPField.Name(LeaseHeaders.task)!] = claim.task.id
            headers[HTTPField.Name(LeaseHeaders.attempt)!] = String(claim.lease.attempt)
            headers[HTTPField.Name(LeaseHeaders.token)!] = claim.lease.token
            return (claim.task.id, headers)
        }

        /// A built image of alpha: a task claimed, an artifact uploaded under its lease, the task reported succeeded
        /// with its provenance.
        func builtImage() async throws -> String {
            let (task, headers) = try await leaseHeaders()
            let bytes = ImageFixtures.raw(1 << 20)
            var request = headers
            request[HTTPField.Name("X-Arrow-Artifact-SHA256")!] = ImageFixtures.sha256(bytes)
            request[HTTPField.Name("X-Arrow-Artifact-Name")!] = "built.raw"
            request[.contentType] = "application/octet-stream"
            request[.authorization] = "Bearer \(seed.builder)"
            let upload = try await client.execute(uri: "/api/vm-build/tasks/\(task)/artifact", method: .put, headers: request, body: ByteBuffer(bytes: bytes))
            let artifact = try #require(try upload.json()["image_id"] as? String, "\(upload.text)")
            let attempt = headers[HTTPField.Name(LeaseHeaders.attempt)!] ?? "1", token = headers[HTTPField.Name(LeaseHeaders.token)!] ?? ""
            let provenance = #"{"task_id":"\#(task)","base_image_id":"\#(alphaImage)","base_sha256":"0","configuration_hash":"0","software":[],"ansible_flags":{},"roles":{},"builder_version":"1","phase_seconds":{},"packages":[],"added":[],"removed":[],"changed":[]}"#
            let done = try await client.send(.post, "/api/vm-build/task-status", token: seed.builder,
                                             json: #"{"task_id":"\#(task)","attempt":\#(attempt),"lease_token":"\#(token)","event":"succeeded","artifact_image_id":"\#(artifact)","provenance":\#(provenance)}"#)
            #expect(done.status == .ok, "\(done.text)")
            return artifact
        }

        /// A webhook of alpha (to a public address that is never called: no task of alpha ends in the matrix).
        func webhook() async throws -> String {
            let admin = try await backends.identity.authenticate(secret: seed.alphaAdmin)
            return try await backends.builds.webhooks.create(organization: alpha, url: "https://hooks.example.org/\(PermissionMatrixTests.unique())",
                                                             events: [], principal: admin).0.id.rawValue
        }

        /// A build server of alpha, at a loopback port nothing listens on (a check answers at once, with the problem).
        func buildServer() async throws -> String {
            let admin = try await backends.identity.authenticate(secret: seed.alphaAdmin)
            let id = "pve-" + PermissionMatrixTests.unique()
            _ = try await backends.builds.servers.add(organization: alpha, BuildServerRequest(
                id: id, url: "http://127.0.0.1:9", tokenId: "arrow@pve!m", tokenSecret: "matrix-secret", node: "pve1", importStorage: "local"), principal: admin)
            return id
        }

        func template() async throws -> String {
            let admin = try await backends.identity.authenticate(secret: seed.alphaAdmin)
            let template = try await backends.builds.templates.create(organization: alpha, TemplateInput(
                name: "t-" + PermissionMatrixTests.unique(), definition: BuildTemplate.Definition(baseImageId: alphaImage)), principal: admin)
            return template.id.rawValue
        }

        func member() async throws -> String {
            let user = try await AdminOperations(backends: backends)
                .createUser(organization: "alpha", email: "m-\(UUID().uuidString.prefix(8))@alpha.test", password: "password-x", role: .member)
            return user.id.rawValue
        }
    }

    static func unique() -> String { String(UUID().uuidString.prefix(8)).lowercased() }

    /// One request per route that needs a permission, keyed as the router declares it.
    static let recipes: [String: Recipe] = [
        "GET /api/tokens": { _, _ in MatrixRequest(path: "/api/tokens") },
        "POST /api/tokens": { _, _ in MatrixRequest(path: "/api/tokens", json: #"{"name":"made"}"#) },
        "DELETE /api/tokens/:token_id": { world, caller in MatrixRequest(path: "/api/tokens/\(try await world.token(of: caller))") },
        "POST /api/vm_images/:image_id/metadata_files": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(try await world.image())/metadata_files",
                          form: ImageFixtures.Form(file: ("t.png", MetadataFileAPITests.png(), "image/png")))
        },
        "GET /api/vm_images/:image_id/metadata_files": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(world.alphaImage)/metadata_files")
        },
        "GET /api/vm_images/:image_id/metadata_files/:file_id": { world, _ in
            let image = try await world.image()
            return MatrixRequest(path: "/api/vm_images/\(image)/metadata_files/\(try await world.metadataFile(on: image))")
        },
        "DELETE /api/vm_images/:image_id/metadata_files/:file_id": { world, _ in
            let image = try await world.image()
            return MatrixRequest(path: "/api/vm_images/\(image)/metadata_files/\(try await world.metadataFile(on: image))")
        },
        "POST /api/vm_images/upload": { _, _ in
            MatrixRequest(path: "/api/vm_images/upload", form: ImageFixtures.Form(
                fields: [("name", "matrix")], file: ("u.raw", ImageFixtures.raw((1 << 20) + 1024), "application/octet-stream")))
        },
        "GET /api/vm_images": { _, _ in MatrixRequest(path: "/api/vm_images") },
        "GET /api/vm_images/:image_id": { world, _ in MatrixRequest(path: "/api/vm_images/\(world.alphaImage)") },
        "PATCH /api/vm_images/:image_id": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(world.alphaImage)", json: #"{"description":"edited"}"#)
        },
        "DELETE /api/vm_images/:image_id": { world, _ in MatrixRequest(path: "/api/vm_images/\(try await world.image())") },
        "GET /api/vm_images/:image_id/versions": { world, _ in MatrixRequest(path: "/api/vm_images/\(world.alphaImage)/versions") },
        "GET /api/vm_images/:image_id/download": { world, _ in MatrixRequest(path: "/api/vm_images/\(world.alphaImage)/download") },
        "GET /api/vm_images/:image_id/shares": { world, _ in MatrixRequest(path: "/api/vm_images/\(world.alphaImage)/shares") },
        "POST /api/vm_images/:image_id/shares": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(try await world.image())/shares", json: #"{"organization_id":"\#(world.seed.beta.id.rawValue)"}"#)
        },
        "DELETE /api/vm_images/:image_id/shares/:org_id": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(try await world.sharedImage())/shares/\(world.seed.beta.id.rawValue)")
        },
        "PUT /api/vm_images/:image_id/public": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(try await world.image())/public", json: #"{"public":true}"#)
        },
        "GET /api/organizations/:org_id/default_images": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/default_images") },
        "PUT /api/organizations/:org_id/default_images": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/default_images", json: #"{"image_ids":["\#(world.alphaImage)"]}"#)
        },
        "DELETE /api/organizations/:org_id/default_images": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/default_images") },
        "POST /api/vm_images/upload/sign": { _, _ in
            MatrixRequest(path: "/api/vm_images/upload/sign", json: #"{"file_name":"s.raw","file_size":2097152,"name":"matrix"}"#)
        },
        "POST /api/vm_images/upload/complete": { world, caller in
            MatrixRequest(path: "/api/vm_images/upload/complete", json: #"{"upload_id":"\#(try await world.session(of: caller, uploaded: true))"}"#)
        },
        "GET /api/vm_images/upload/:upload_id": { world, caller in
            MatrixRequest(path: "/api/vm_images/upload/\(try await world.session(of: caller, uploaded: false))")
        },
        "DELETE /api/vm_images/upload/:upload_id": { world, caller in
            MatrixRequest(path: "/api/vm_images/upload/\(try await world.session(of: caller, uploaded: false))")
        },
        "POST /api/organizations": { _, _ in MatrixRequest(path: "/api/organizations", json: #"{"name":"org-\#(unique())"}"#) },
        "GET /api/organizations/:org_id/users": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/users") },
        "POST /api/organizations/:org_id/users": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/users",
                          json: #"{"email":"u-\#(unique())@alpha.test","password":"password-u","role":"member"}"#)
        },
        "PATCH /api/organizations/:org_id/users/:user_id": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/users/\(try await world.member())", json: #"{"role":"admin"}"#)
        },
        "POST /api/organizations/:org_id/service-accounts": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/service-accounts", json: #"{"name":"b-\#(unique())"}"#)
        },
        "GET /api/audit": { _, _ in MatrixRequest(path: "/api/audit") },
        "POST /api/vm-imaging/trigger": { world, _ in
            MatrixRequest(path: "/api/vm-imaging/trigger", json: #"{"request_id":"dr-\#(unique())","device_type":"vm","images":[{"id":"\#(world.alphaImage)","name":"m"}],"organization":"\#(world.alpha)","client":"acme","timestamp":"2026-11-30T10:00:00Z"}"#)
        },
        "GET /api/vm-imaging/dispatches": { _, _ in MatrixRequest(path: "/api/vm-imaging/dispatches") },
        "POST /api/vm-build/trigger": { world, _ in
            MatrixRequest(path: "/api/vm-build/trigger", json: #"{"image_id":"\#(world.alphaImage)","build_type":"vm","organization_id":"\#(world.alpha)"}"#)
        },
        "GET /api/vm-build/tasks/:task_id": { world, _ in MatrixRequest(path: "/api/vm-build/tasks/\(try await world.task())") },
        "POST /api/vm-build/tasks/:task_id/retry": { world, _ in MatrixRequest(path: "/api/vm-build/tasks/\(try await world.task(.failed))/retry") },
        "POST /api/vm-build/tasks/:task_id/cancel": { world, _ in MatrixRequest(path: "/api/vm-build/tasks/\(try await world.task())/cancel") },
        "GET /api/builders": { _, _ in MatrixRequest(path: "/api/builders") },
        "GET /api/device-requests": { _, _ in MatrixRequest(path: "/api/device-requests") },
        "GET /api/device-requests/:request_id": { world, _ in MatrixRequest(path: "/api/device-requests/\(try await world.deviceRequest())") },
        "POST /api/vm-build/tasks/claim": { _, _ in
            MatrixRequest(path: "/api/vm-build/tasks/claim", json: #"{"builder":{"name":"matrix","version":"1","device_types":["pvm"]}}"#)
        },
        "POST /api/vm-build/task-status": { world, _ in MatrixRequest(path: "/api/vm-build/task-status", json: try await world.leased(#""event":"heartbeat""#)) },
        "POST /api/vm-build/task-logs": { world, _ in MatrixRequest(path: "/api/vm-build/task-logs", json: try await world.leased(#""file":"ansible","sequence":0,"content":"ok\n""#)) },
        "GET /api/build-logs/proxy": { world, _ in MatrixRequest(path: "/api/build-logs/proxy?task=\(try await world.task())&file=download.log") },
        "GET /api/vm-build/stats": { _, _ in MatrixRequest(path: "/api/vm-build/stats?window=1d") },
        "GET /api/organizations/:org_id/client-config": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/client-config") },
        "PUT /api/organizations/:org_id/client-config": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/client-config", json: #"{"timezone":"UTC","vpn_config":{"setup_key":"k"}}"#)
        },
        "GET /api/imaging/client-config/:org_id": { world, _ in
            MatrixRequest(path: "/api/imaging/client-config/\(world.alpha)", headers: try await world.leaseHeaders().headers)
        },
        "GET /api/imaging/image-config/:task_id": { world, _ in
            let (task, headers) = try await world.leaseHeaders()
            return MatrixRequest(path: "/api/imaging/image-config/\(task)", headers: headers)
        },
        "PUT /api/vm-build/tasks/:task_id/artifact": { world, _ in
            // The lease is checked before a byte is stored; a 1 MiB raw image the inspector accepts.
            let (task, headers) = try await world.leaseHeaders()
            var withHash = headers
            withHash[HTTPField.Name("X-Arrow-Artifact-SHA256")!] = ImageFixtures.sha256(ImageFixtures.raw(1 << 20))
            withHash[HTTPField.Name("X-Arrow-Artifact-Name")!] = "built.raw"
            return MatrixRequest(path: "/api/vm-build/tasks/\(task)/artifact", body: ImageFixtures.raw(1 << 20), headers: withHash)
        },
        "POST /api/vm-build/tasks/:task_id/publish": { world, _ in
            let (task, headers) = try await world.leaseHeaders()
            return MatrixRequest(path: "/api/vm-build/tasks/\(task)/publish", json: #"{"artifact_image_id":"\#(try await world.image())"}"#, headers: headers)
        },
        "POST /api/vm_images/:image_id/deploy": { world, _ in
            MatrixRequest(path: "/api/vm_images/\(try await world.image())/deploy", json: #"{"target":"qemu","vm_name":"m"}"#)
        },
        "PUT /api/vm_images/:image_id/download": { world, _ in MatrixRequest(path: "/api/vm_images/\(try await world.image())/download", json: "{}") },
        "DELETE /api/vm_images/:image_id/download": { world, _ in
            let image = try await world.image()
            let admin = try await world.backends.identity.authenticate(secret: world.seed.alphaAdmin)
            _ = try await world.backends.images.publish(id: image, principal: admin)
            return MatrixRequest(path: "/api/vm_images/\(image)/download")
        },
        "GET /api/vm_images/:image_id/contents": { world, _ in MatrixRequest(path: "/api/vm_images/\(try await world.builtImage())/contents") },
        "GET /api/organizations/:org_id/webhooks": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/webhooks") },
        "POST /api/organizations/:org_id/webhooks": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/webhooks", json: #"{"url":"https://hooks.example.org/m","events":["build.failed"]}"#)
        },
        "DELETE /api/organizations/:org_id/webhooks/:webhook_id": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/webhooks/\(try await world.webhook())")
        },
        "GET /api/vm-build/events": { _, _ in MatrixRequest(path: "/api/vm-build/events?once=true") },
        "GET /api/vm-build/failures": { _, _ in MatrixRequest(path: "/api/vm-build/failures") },
        "GET /api/organizations/:org_id/build-templates": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates") },
        "POST /api/organizations/:org_id/build-templates": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates",
                          json: #"{"name":"m-\#(unique())","base_image_id":"\#(world.alphaImage)"}"#)
        },
        "GET /api/organizations/:org_id/build-templates/:template_id": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates/\(try await world.template())")
        },
        "PUT /api/organizations/:org_id/build-templates/:template_id": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates/\(try await world.template())",
                          json: #"{"name":"m-\#(unique())","base_image_id":"\#(world.alphaImage)","schedule":"@weekly"}"#)
        },
        "DELETE /api/organizations/:org_id/build-templates/:template_id": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates/\(try await world.template())")
        },
        "POST /api/organizations/:org_id/build-templates/:template_id/run": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates/\(try await world.template())/run", json: "{}")
        },
        "GET /api/organizations/:org_id/build-templates/:template_id/runs": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-templates/\(try await world.template())/runs")
        },
        "GET /api/organizations/:org_id/build-servers": { world, _ in MatrixRequest(path: "/api/organizations/\(world.alpha)/build-servers") },
        "POST /api/organizations/:org_id/build-servers": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-servers",
                          json: #"{"id":"pve-\#(unique())","url":"https://pve.example.org:8006","token_id":"arrow@pve!m","token_secret":"s","node":"pve1","import_storage":"local"}"#)
        },
        "DELETE /api/organizations/:org_id/build-servers/:server_id": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-servers/\(try await world.buildServer())")
        },
        "POST /api/organizations/:org_id/build-servers/:server_id/check": { world, _ in
            MatrixRequest(path: "/api/organizations/\(world.alpha)/build-servers/\(try await world.buildServer())/check", json: "{}")
        },
    ]

    static func declaredRoutes() async throws -> [DeclaredRoute] {
        try await SystemAPITests.withUnusedBackends { backends in
            buildAPI(APIDependencies(identity: backends.identity, images: backends.images, readiness: {}, metrics: { "" })).routes
        }
    }

    @Test func everyRouteDeclaresItsAccessAndEveryPermissionRouteHasARecipe() async throws {
        let routes = try await Self.declaredRoutes()
        let gated = Set(routes.filter { $0.access.permission != nil }.map(\.description))
        #expect(gated == Set(Self.recipes.keys), "routes without a recipe: \(gated.subtracting(Self.recipes.keys).sorted())")
        // The routes anyone may call, without a token: the list is short and every entry is on purpose.
        let open = Set(routes.filter { $0.access == .open }.map(\.description))
        #expect(open == [
            "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml", "POST /api/auth/login",
            "GET /api/storage/objects/**", "PUT /api/storage/uploads/:upload_id/:part_number", "GET /downloads/**",
            // The console: sign-in, and its pages and scripts (which hold no data; they call the API like the CLI).
            "POST /api/auth/session", "GET /", "GET /console", "GET /console/:page", "GET /console/assets/:file",
        ])
        #expect(routes.filter { $0.access == .authenticated }.map(\.description).sorted() == [
            "DELETE /api/auth/session", "GET /api/auth/session", "GET /api/me", "GET /api/notifications", "GET /api/organizations", "GET /api/organizations/:org_id", "GET /api/vm-build/tasks",
            "POST /api/auth/logout", "POST /api/notifications/:notification_id/read", "POST /api/notifications/read-all",
        ])
    }

    /// The scope sets tried for a permission: none given (the role's), exactly it, everything but it, nothing.
    static func scopeSets(for permission: Permission) -> [Set<Permission>?] {
        [nil, [permission], Set(Permission.allCases).subtracting([permission]), []]
    }

    @Test(arguments: TestBackend.allCases)
    func everyPermissionRouteAnswersExactlyWhenRoleAndScopesHoldIt(_ backend: TestBackend) async throws {
        let routes = try await Self.declaredRoutes().filter { $0.access.permission != nil }
        try await Harness.withApp(backend) { client, seed in
            try await Harness.withBackends(seed) { backends in
                var world = MatrixWorld(client: client, seed: seed, backends: backends)
                world.alphaImage = try await world.image()
                let people: [(String, Role)] = [("root@arrow.test", .superuser), ("admin@alpha.test", .admin), ("member@alpha.test", .member)]
                var failures: [String] = []
                for route in routes {
                    let permission = try #require(route.access.permission)
                    let recipe = try #require(Self.recipes[route.description])
                    for (email, role) in people {
                        for scopes in Self.scopeSets(for: permission) {
                            let token = try await world.mint(email: email, scopes: scopes)
                            let caller = Caller(email: email, role: role, token: token, scopes: scopes)
                            var allowed = role.permissions.contains(permission) && (scopes ?? role.permissions).contains(permission)
                            if case .superuser = route.access { allowed = allowed && role == .superuser }
                            if case .builder = route.access { allowed = false }
                            let status = try await Self.send(route, recipe(world, caller), token: token, client: client)
                            let ok = allowed ? (200..<400).contains(status.code) : status == .forbidden
                            if !ok { failures.append("\(route) as \(caller): \(status.code), expected \(allowed ? "success" : "403")") }
                        }
                    }
                    // A builder service account holds only `builder`, whatever its token says: it may use the builder
                    // routes and nothing else.
                    let builder = Caller(email: "", role: .builder, token: seed.builder, scopes: nil)
                    let status = try await Self.send(route, try await recipe(world, Caller(email: "admin@alpha.test", role: .admin, token: "", scopes: nil)),
                                                     token: builder.token, client: client)
                    if route.access == .builder {
                        if !(200..<400).contains(status.code) { failures.append("\(route) as builder: \(status.code), expected success") }
                    } else if status != .forbidden {
                        failures.append("\(route) as builder: \(status.code), expected 403")
                    }
                    // And without a token at all: 401.
                    let anonymous = try await Self.send(route, try await recipe(world, Caller(email: "admin@alpha.test", role: .admin, token: "", scopes: nil)),
                                                        token: nil, client: client)
                    if anonymous != .unauthorized { failures.append("\(route) without a token: \(anonymous.code), expected 401") }
                }
                #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.joined(separator: "\n"))")
            }
        }
    }

    static func send(_ route: DeclaredRoute, _ request: MatrixRequest, token: String?, client: any TestClientProtocol) async throws -> HTTPResponse.Status {
        if let form = request.form {
            var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(form.boundary)"]
            if let token { headers[.authorization] = "Bearer \(token)" }
            return try await client.execute(uri: request.path, method: route.method, headers: headers, body: form.body).status
        }
        if let body = request.body {
            var headers = request.headers
            headers[.contentType] = "application/octet-stream"
            if let token { headers[.authorization] = "Bearer \(token)" }
            return try await client.execute(uri: request.path, method: route.method, headers: headers, body: ByteBuffer(bytes: body)).status
        }
        return try await client.send(route.method, request.path, token: token, json: request.json, headers: request.headers).status
    }
}
