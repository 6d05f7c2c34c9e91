import ArrowAPI
import ArrowCore
import ArrowTesting
import HummingbirdTesting
import Foundation
import HTTPTypes
import Testing
import Yams

/// Every authenticated endpoint, with organization B's resources filled in. The list is checked against the
/// OpenAPI document (itself checked against the router), so a new endpoint cannot be forgotten here.
struct EndpointCase: Sendable, CustomStringConvertible {
    var method: HTTPRequest.Method
    var template: String
    var path: @Sendable (Seed) -> String
    var body: String?
    /// Writes an organization's data (members may never succeed).
    var writesOrganizationData: Bool
    /// Endpoints about the caller itself, open to any authenticated principal.
    var selfService: Bool = false
    /// The builder API: a builder service account may call it (within its reach).
    var forBuilders: Bool = false

    /// Names one of organization B's resources in its query: must answer 403 or 404 like a path that names one.
    var namesResource: Bool = false
    /// A body aimed at organization B's resources, where the body names them.
    var seededBody: (@Sendable (Seed) -> String)?

    var description: String { "\(method) \(template)" }

    func json(_ seed: Seed) -> String? { seededBody?(seed) ?? body }

    static let all: [EndpointCase] = [
        .init(method: .get, template: "/api/me", path: { _ in "/api/me" }, writesOrganizationData: false, selfService: true),
        .init(method: .get, template: "/api/auth/session", path: { _ in "/api/auth/session" }, writesOrganizationData: false, selfService: true),
        .init(method: .get, template: "/api/tokens", path: { _ in "/api/tokens" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/tokens", path: { _ in "/api/tokens" }, body: #"{"name":"x"}"#, writesOrganizationData: false),
        .init(method: .delete, template: "/api/tokens/{token_id}", path: { "/api/tokens/\($0.betaAdminTokenID)" }, writesOrganizationData: true),
        .init(method: .get, template: "/api/organizations", path: { _ in "/api/organizations" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/organizations", path: { _ in "/api/organizations" }, body: #"{"name":"gamma"}"#, writesOrganizationData: true),
        .init(method: .get, template: "/api/organizations/{org_id}", path: { "/api/organizations/\($0.beta.id)" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/organizations/{org_id}/users", path: { "/api/organizations/\($0.beta.id)/users" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/organizations/{org_id}/users", path: { "/api/organizations/\($0.beta.id)/users" },
              body: #"{"email":"x@beta.test","password":"password-x","role":"member"}"#, writesOrganizationData: true),
        .init(method: .patch, template: "/api/organizations/{org_id}/users/{user_id}",
              path: { "/api/organizations/\($0.beta.id)/users/\($0.betaMemberID)" }, body: #"{"role":"admin"}"#, writesOrganizationData: true),
        .init(method: .post, template: "/api/organizations/{org_id}/service-accounts",
              path: { "/api/organizations/\($0.beta.id)/service-accounts" }, body: #"{"name":"b"}"#, writesOrganizationData: true),
        .init(method: .get, template: "/api/audit", path: { _ in "/api/audit" }, writesOrganizationData: false),
        // Uploads write the caller's own organization; member and builder refusals are in ImageUploadAPITests.
        .init(method: .post, template: "/api/vm_images/upload", path: { _ in "/api/vm_images/upload" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/vm_images/upload/sign", path: { _ in "/api/vm_images/upload/sign" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/vm_images/upload/complete", path: { _ in "/api/vm_images/upload/complete" },
              writesOrganizationData: false),
        .init(method: .get, template: "/api/vm_images/upload/{upload_id}", path: { "/api/vm_images/upload/\($0.betaUploadID)" },
              writesOrganizationData: false),
        .init(method: .delete, template: "/api/vm_images/upload/{upload_id}", path: { "/api/vm_images/upload/\($0.betaUploadID)" },
              writesOrganizationData: true),
        .init(method: .get, template: "/api/vm_images", path: { _ in "/api/vm_images" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/vm_images/{image_id}", path: { "/api/vm_images/\($0.betaImageID)" }, writesOrganizationData: false),
        .init(method: .patch, template: "/api/vm_images/{image_id}", path: { "/api/vm_images/\($0.betaImageID)" },
              body: #"{"name":"taken"}"#, writesOrganizationData: true),
        .init(method: .delete, template: "/api/vm_images/{image_id}", path: { "/api/vm_images/\($0.betaImageID)" }, writesOrganizationData: true),
        .init(method: .get, template: "/api/vm_images/{image_id}/versions", path: { "/api/vm_images/\($0.betaImageID)/versions" },
              writesOrganizationData: false),
        .init(method: .get, template: "/api/vm_images/{image_id}/download", path: { "/api/vm_images/\($0.betaImageID)/download" },
              writesOrganizationData: false),
        .init(method: .get, template: "/api/vm_images/{image_id}/shares", path: { "/api/vm_images/\($0.betaImageID)/shares" },
              writesOrganizationData: false),
        .init(method: .post, template: "/api/vm_images/{image_id}/shares", path: { "/api/vm_images/\($0.betaImageID)/shares" },
              body: #"{"organization_id":"x"}"#, writesOrganizationData: true),
        .init(method: .delete, template: "/api/vm_images/{image_id}/shares/{org_id}",
              path: { "/api/vm_images/\($0.betaImageID)/shares/\($0.alpha.id)" }, writesOrganizationData: true),
        .init(method: .put, template: "/api/vm_images/{image_id}/public", path: { "/api/vm_images/\($0.betaImageID)/public" },
              body: #"{"public":true}"#, writesOrganizationData: true),
        .init(method: .get, template: "/api/organizations/{org_id}/default_images", path: { "/api/organizations/\($0.beta.id)/default_images" },
              writesOrganizationData: false),
        .init(method: .put, template: "/api/organizations/{org_id}/default_images", path: { "/api/organizations/\($0.beta.id)/default_images" },
              body: #"{"image_ids":[]}"#, writesOrganizationData: true),
        .init(method: .delete, template: "/api/organizations/{org_id}/default_images",
              path: { "/api/organizations/\($0.beta.id)/default_images" }, writesOrganizationData: true),
        .init(method: .get, template: "/api/vm_images/{image_id}/metadata_files", path: { "/api/vm_images/\($0.betaImageID)/metadata_files" },
              writesOrganizationData: false),
        .init(method: .post, template: "/api/vm_images/{image_id}/metadata_files", path: { "/api/vm_images/\($0.betaImageID)/metadata_files" },
              writesOrganizationData: true),
        .init(method: .get, template: "/api/vm_images/{image_id}/metadata_files/{file_id}",
              path: { "/api/vm_images/\($0.betaImageID)/metadata_files/x" }, writesOrganizationData: false),
        .init(method: .delete, template: "/api/vm_images/{image_id}/metadata_files/{file_id}",
              path: { "/api/vm_images/\($0.betaImageID)/metadata_files/x" }, writesOrganizationData: true),
        .init(method: .post, template: "/api/vm-imaging/trigger", path: { _ in "/api/vm-imaging/trigger" }, writesOrganizationData: true,
              seededBody: { #"{"request_id":"dr-x","device_type":"vm","images":[{"id":"\#($0.betaImageID)","name":"x"}],"organization":"\#($0.beta.id)","client":"c","timestamp":"2026-11-30T10:00:00Z"}"# }),
        .init(method: .get, template: "/api/vm-imaging/dispatches", path: { _ in "/api/vm-imaging/dispatches" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/vm-build/trigger", path: { _ in "/api/vm-build/trigger" }, writesOrganizationData: true,
              seededBody: { #"{"image_id":"\#($0.betaImageID)","build_type":"vm","organization_id":"\#($0.beta.id)"}"# }),
        .init(method: .get, template: "/api/vm-build/tasks", path: { _ in "/api/vm-build/tasks" }, writesOrganizationData: false, forBuilders: true),
        .init(method: .get, template: "/api/vm-build/tasks/{task_id}", path: { "/api/vm-build/tasks/\($0.betaTaskID)" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/vm-build/tasks/{task_id}/retry", path: { "/api/vm-build/tasks/\($0.betaTaskID)/retry" },
              writesOrganizationData: true),
        .init(method: .post, template: "/api/vm-build/tasks/{task_id}/cancel", path: { "/api/vm-build/tasks/\($0.betaTaskID)/cancel" },
              writesOrganizationData: true),
        .init(method: .post, template: "/api/vm-build/tasks/claim", path: { _ in "/api/vm-build/tasks/claim" },
              body: #"{"builder":{"name":"iso","version":"1","device_types":["pvm"]}}"#, writesOrganizationData: true, forBuilders: true),
        .init(method: .post, template: "/api/vm-build/task-status", path: { _ in "/api/vm-build/task-status" },
              writesOrganizationData: true, forBuilders: true,
              seededBody: { #"{"task_id":"\#($0.betaTaskID)","attempt":1,"lease_token":"forged","event":"succeeded"}"# }),
        .init(method: .post, template: "/api/vm-build/task-logs", path: { _ in "/api/vm-build/task-logs" },
              writesOrganizationData: true, forBuilders: true,
              seededBody: { #"{"task_id":"\#($0.betaTaskID)","attempt":1,"lease_token":"forged","file":"download","sequence":0,"content":"x"}"# }),
        .init(method: .get, template: "/api/build-logs/proxy", path: { "/api/build-logs/proxy?task=\($0.betaTaskID)&file=download.log" },
              writesOrganizationData: false, namesResource: true),
        .init(method: .get, template: "/api/builders", path: { _ in "/api/builders" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/device-requests", path: { _ in "/api/device-requests" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/device-requests/{request_id}", path: { "/api/device-requests/\($0.betaDeviceRequestID)" },
              writesOrganizationData: false),
        .init(method: .get, template: "/api/vm-build/stats", path: { _ in "/api/vm-build/stats" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/vm-build/events", path: { _ in "/api/vm-build/events?once=true" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/vm-build/failures", path: { _ in "/api/vm-build/failures" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/organizations/{org_id}/build-templates", path: { "/api/organizations/\($0.beta.id)/build-templates" },
              writesOrganizationData: false, namesResource: true),
        .init(method: .post, template: "/api/organizations/{org_id}/build-templates", path: { "/api/organizations/\($0.beta.id)/build-templates" },
              body: #"{"name":"iso","base_image_id":"x"}"#, writesOrganizationData: true),
        .init(method: .get, template: "/api/organizations/{org_id}/build-templates/{template_id}",
              path: { "/api/organizations/\($0.beta.id)/build-templates/\($0.betaTemplateID)" }, writesOrganizationData: false),
        .init(method: .put, template: "/api/organizations/{org_id}/build-templates/{template_id}",
              path: { "/api/organizations/\($0.beta.id)/build-templates/\($0.betaTemplateID)" }, body: #"{"name":"iso","base_image_id":"x"}"#,
              writesOrganizationData: true),
        .init(method: .delete, template: "/api/organizations/{org_id}/build-templates/{template_id}",
              path: { "/api/organizations/\($0.beta.id)/build-templates/\($0.betaTemplateID)" }, writesOrganizationData: true),
        .init(method: .post, template: "/api/organizations/{org_id}/build-templates/{template_id}/run",
              path: { "/api/organizations/\($0.beta.id)/build-templates/\($0.betaTemplateID)/run" }, body: "{}", writesOrganizationData: true),
        .init(method: .get, template: "/api/organizations/{org_id}/build-templates/{template_id}/runs",
              path: { "/api/organizations/\($0.beta.id)/build-templates/\($0.betaTemplateID)/runs" }, writesOrganizationData: false),
        .init(method: .get, template: "/api/organizations/{org_id}/client-config", path: { "/api/organizations/\($0.beta.id)/client-config" },
              writesOrganizationData: false),
        .init(method: .put, template: "/api/organizations/{org_id}/client-config", path: { "/api/organizations/\($0.beta.id)/client-config" },
              body: #"{"timezone":"UTC"}"#, writesOrganizationData: true),
        .init(method: .get, template: "/api/imaging/client-config/{org_id}", path: { "/api/imaging/client-config/\($0.beta.id)" },
              writesOrganizationData: false, forBuilders: true),
        .init(method: .get, template: "/api/imaging/image-config/{task_id}", path: { "/api/imaging/image-config/\($0.betaTaskID)" },
              writesOrganizationData: false, forBuilders: true),
        .init(method: .put, template: "/api/vm-build/tasks/{task_id}/artifact", path: { "/api/vm-build/tasks/\($0.betaTaskID)/artifact" },
              body: "not an image", writesOrganizationData: true, forBuilders: true),
        .init(method: .get, template: "/api/vm_images/{image_id}/contents", path: { "/api/vm_images/\($0.betaImageID)/contents" },
              writesOrganizationData: false),
        .init(method: .get, template: "/api/notifications", path: { _ in "/api/notifications" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/notifications/read-all", path: { _ in "/api/notifications/read-all" }, writesOrganizationData: false),
        .init(method: .post, template: "/api/notifications/{notification_id}/read", path: { _ in "/api/notifications/\(UUID().uuidString.lowercased())/read" },
              writesOrganizationData: false),
        .init(method: .get, template: "/api/organizations/{org_id}/webhooks", path: { "/api/organizations/\($0.beta.id)/webhooks" },
              writesOrganizationData: false),
        .init(method: .post, template: "/api/organizations/{org_id}/webhooks", path: { "/api/organizations/\($0.beta.id)/webhooks" },
              body: #"{"url":"https://hooks.example.org/iso"}"#, writesOrganizationData: true),
        .init(method: .delete, template: "/api/organizations/{org_id}/webhooks/{webhook_id}",
              path: { "/api/organizations/\($0.beta.id)/webhooks/\(UUID().uuidString.lowercased())" }, writesOrganizationData: true),
        .init(method: .get, template: "/api/organizations/{org_id}/build-servers", path: { "/api/organizations/\($0.beta.id)/build-servers" },
              writesOrganizationData: false),
        .init(method: .post, template: "/api/organizations/{org_id}/build-servers", path: { "/api/organizations/\($0.beta.id)/build-servers" },
              body: #"{"id":"pve-iso","url":"https://pve.example.org:8006","token_id":"a@pve!t","token_secret":"s","node":"pve1","import_storage":"local"}"#,
              writesOrganizationData: true),
        .init(method: .delete, template: "/api/organizations/{org_id}/build-servers/{server_id}",
              path: { "/api/organizations/\($0.beta.id)/build-servers/pve-iso" }, writesOrganizationData: true),
        .init(method: .post, template: "/api/organizations/{org_id}/build-servers/{server_id}/check",
              path: { "/api/organizations/\($0.beta.id)/build-servers/pve-iso/check" }, writesOrganizationData: false),
        .init(method: .put, template: "/api/vm_images/{image_id}/download", path: { "/api/vm_images/\($0.betaImageID)/download" },
              writesOrganizationData: true),
        .init(method: .delete, template: "/api/vm_images/{image_id}/download", path: { "/api/vm_images/\($0.betaImageID)/download" },
              writesOrganizationData: true),
        .init(method: .post, template: "/api/vm-build/tasks/{task_id}/publish", path: { "/api/vm-build/tasks/\($0.betaTaskID)/publish" },
              body: #"{"artifact_image_id":"x"}"#, writesOrganizationData: true, forBuilders: true),
        .init(method: .post, template: "/api/vm_images/{image_id}/deploy", path: { "/api/vm_images/\($0.betaImageID)/deploy" },
              body: #"{"target":"qemu"}"#, writesOrganizationData: true),
        // Last: it revokes the token the matrix is walked with.
        .init(method: .post, template: "/api/auth/logout", path: { _ in "/api/auth/logout" }, writesOrganizationData: false, selfService: true),
        .init(method: .delete, template: "/api/auth/session", path: { _ in "/api/auth/session" }, writesOrganizationData: false, selfService: true),
    ]

    /// Endpoints that need no token.
    static let publicEndpoints: Set<String> = [
        "POST /api/auth/login", "POST /api/auth/session", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml",
        // Presigned storage URLs: the signature is the credential (tested in StorageAPITests).
        "GET /api/storage/objects/{key}", "PUT /api/storage/uploads/{upload_id}/{part_number}",
        // Published downloads are public by design (tested in ImageDownloadAPITests).
        "GET /downloads/{key}",
    ]
}

@Suite struct IsolationTests {
    @Test func everyDocumentedEndpointIsInTheIsolationMatrix() throws {
        let documented = try OpenAPIRoutes.documented()
        let covered = Set(EndpointCase.all.map { "\($0.method) \($0.template)" }).union(EndpointCase.publicEndpoints)
        #expect(documented == covered)
    }

    @Test(arguments: TestBackend.allCases)
    func anAdminOfOneOrganizationCannotReachAnother(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            for endpoint in EndpointCase.all {
                let response = try await client.send(endpoint.method, endpoint.path(seed), token: seed.alphaAdmin, json: endpoint.json(seed))
                if endpoint.template.contains("{") || endpoint.writesOrganizationData || endpoint.namesResource {
                    #expect([403, 404].contains(response.status.code), "\(endpoint) answered \(response.status) to alpha's admin")
                } else {
                    // Lists answer, but hold nothing of organization B.
                    #expect(!response.text.contains(seed.beta.id.rawValue), "\(endpoint) leaked beta to alpha's admin")
                    #expect(!response.text.contains(seed.betaTaskID), "\(endpoint) leaked beta's task to alpha's admin")
                    #expect(!response.text.contains(seed.betaDeviceRequestID), "\(endpoint) leaked beta's device request to alpha's admin")
                    #expect(!response.text.contains("beta.test"), "\(endpoint) leaked beta users to alpha's admin")
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aMemberCannotWrite(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            for endpoint in EndpointCase.all where endpoint.writesOrganizationData {
                // Aim at the member's own organization too: membership never grants a write.
                for path in [endpoint.path(seed), endpoint.path(seed).replacingOccurrences(of: seed.beta.id.rawValue, with: seed.alpha.id.rawValue)] {
                    let response = try await client.send(endpoint.method, path, token: seed.alphaMember, json: endpoint.json(seed))
                    #expect([403, 404].contains(response.status.code), "\(endpoint.method) \(path) answered \(response.status) to a member")
                }
            }
            let users = try await client.send(.get, "/api/organizations/\(seed.alpha.id)/users", token: seed.alphaMember)
            #expect(users.status == .forbidden)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBuilderReachesOnlyBuilderEndpoints(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            for endpoint in EndpointCase.all where !endpoint.selfService && !endpoint.forBuilders {
                let response = try await client.send(endpoint.method, endpoint.path(seed), token: seed.builder, json: endpoint.json(seed))
                #expect(response.status == .forbidden, "\(endpoint) answered \(response.status) to a builder")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSuperuserReachesEveryOrganization(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            #expect(try await client.send(.get, "/api/organizations/\(seed.beta.id)/users", token: seed.superuser).status == .ok)
            let orgs = try await client.send(.get, "/api/organizations", token: seed.superuser)
            #expect(orgs.text.contains(seed.alpha.id.rawValue) && orgs.text.contains(seed.beta.id.rawValue))
            let created = try await client.send(.post, "/api/organizations", token: seed.superuser, json: #"{"name":"gamma"}"#)
            #expect(created.status == .created)
        }
    }
}

/// The routes the OpenAPI document lists, as `METHOD /path/{param}`.
enum OpenAPIRoutes {
    static func documented() throws -> Set<String> {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var routes = Set<String>()
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                routes.insert("\(method.uppercased()) \(path)")
            }
        }
        return routes
    }
}
