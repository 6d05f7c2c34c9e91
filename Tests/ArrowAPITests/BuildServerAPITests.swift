import ArrowApp
import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowNetwork
import ArrowProtocol
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Build servers (Proxmox VE endpoints): registered by admins, the token secret sealed and never shown, named by a
/// proxmox build, handed with its secret only to the builder holding that build's lease, and checked against the
/// endpoint in plain words.
@Suite struct BuildServerAPITests {
    static let secret = "9f0e8d7c-6b5a-4c3d-8e2f-proxmox-secret"

    static func body(_ id: String, url: String = "https://pve.example.org:8006", extra: String = "") -> String {
        #"{"id":"\#(id)","url":"\#(url)","token_id":"arrow@pve!deploy","token_secret":"\#(secret)","node":"pve1","import_storage":"local","vlan":20\#(extra)}"#
    }

    @Test(arguments: TestBackend.allCases)
    func anAdminRegistersAServerWhoseSecretIsNeverShownAndABuildDeploysThere(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let alpha = seed.alpha.id.rawValue
            let servers = "/api/organizations/\(alpha)/build-servers"
            let added = try await client.send(.post, servers, token: seed.alphaAdmin, json: Self.body("pve-lab"))
            #expect(added.status == .created, "\(added.text)")
            #expect(!added.text.contains(Self.secret))
            #expect(try added.json()["token_secret_set"] as? Bool == true)
            let view = try added.json()
            #expect(view["disk_storage"] as? String == "local-lvm" && view["bridge"] as? String == "vmbr0")
            let again = try await client.send(.post, servers, token: seed.alphaAdmin, json: Self.body("pve-lab"))
            #expect(again.status == .conflict && again.errorCode == "build_server_exists")
            let listed = try await client.send(.get, servers, token: seed.alphaAdmin)
            #expect(listed.status == .ok && !listed.text.contains(Self.secret) && listed.text.contains("pve-lab"))
            // Sealed at rest: the database holds no plain secret.
            try await Harness.withBackends(seed) { backends in
                let stored = try #require(try await backends.store.repositories.buildServers.find(id: "pve-lab", organization: seed.alpha.id))
                #expect(!stored.sealedSecret.contains(Self.secret) && stored.sealedSecret.hasPrefix("sealed:v1:"))
            }
            // Another organization's admin sees none of it.
            let beta = try await client.send(.get, servers, token: seed.betaAdmin)
            #expect(beta.status == .notFound)

            // A proxmox build names a server of the organization (or it is refused), and the builder holding its
            // lease gets the server with its secret.
            let image = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "pve.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let trigger = "/api/vm-build/trigger"
            let noServer = try await client.send(.post, trigger, token: seed.alphaAdmin,
                                                 json: #"{"image_id":"\#(image)","build_type":"vm","vm_name":"web-01","build_options":{"deployment_target":"proxmox"}}"#)
            #expect(noServer.status == .unprocessableContent && noServer.errorCode == "build_server_required", "\(noServer.text)")
            let unknown = try await client.send(.post, trigger, token: seed.alphaAdmin,
                                                json: #"{"image_id":"\#(image)","build_type":"vm","build_server_id":"nope","build_options":{"deployment_target":"proxmox"}}"#)
            #expect(unknown.status == .unprocessableContent && unknown.errorCode == "unknown_build_server", "\(unknown.text)")
            let queued = try await client.send(.post, trigger, token: seed.alphaAdmin,
                                               json: #"{"image_id":"\#(image)","build_type":"vm","vm_name":"web-01","build_server_id":"pve-lab","build_options":{"deployment_target":"proxmox","keep_on_failure":true}}"#)
            #expect(queued.status == .created, "\(queued.text)")
            #expect(!queued.text.contains(Self.secret))
            let claim = try await client.send(.post, "/api/vm-build/tasks/claim", token: seed.builder,
                                              json: #"{"builder":{"name":"pve","version":"1","device_types":["vm"],"build_servers":["pve-lab"]}}"#)
            let claimed = try WireJSON.decoder().decode(ClaimResponse.self, from: Data(claim.text.utf8))
            var lease = HTTPFields()
            lease[HTTPField.Name(LeaseHeaders.task)!] = claimed.task.id
            lease[HTTPField.Name(LeaseHeaders.attempt)!] = String(claimed.lease.attempt)
            lease[HTTPField.Name(LeaseHeaders.token)!] = claimed.lease.token
            let configText = try await client.send(.get, "/api/imaging/image-config/\(claimed.task.id)", token: seed.builder, headers: lease)
            let config = try WireJSON.decoder().decode(ImageConfigDocument.self, from: Data(configText.text.utf8))
            #expect(config.deploymentTarget == "proxmox" && config.keepOnFailure == true)
            #expect(config.proxmox == ProxmoxTarget(id: "pve-lab", url: "https://pve.example.org:8006", tokenId: "arrow@pve!deploy", tokenSecret: Self.secret,
                                                    node: "pve1", importStorage: "local", diskStorage: "local-lvm", bridge: "vmbr0", vlan: 20, caPem: nil))
            // The task as people see it carries no secret.
            let shown = try await client.send(.get, "/api/vm-build/tasks/\(claimed.task.id)", token: seed.alphaAdmin)
            #expect(shown.status == .ok && !shown.text.contains(Self.secret))

            let removed = try await client.send(.delete, "\(servers)/pve-lab", token: seed.alphaAdmin)
            #expect(removed.status == .noContent)
            #expect(try await client.send(.delete, "\(servers)/pve-lab", token: seed.alphaAdmin).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theOrganizationsDefaultTargetAndServerApplyWhenABuildSaysNothing(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let alpha = seed.alpha.id.rawValue
            #expect(try await client.send(.post, "/api/organizations/\(alpha)/build-servers", token: seed.alphaAdmin, json: Self.body("pve-default")).status == .created)
            let config = try await client.send(.put, "/api/organizations/\(alpha)/client-config", token: seed.alphaAdmin,
                                               json: #"{"deployment":{"target":"proxmox","build_server_id":"pve-default"}}"#)
            #expect(config.status == .ok, "\(config.text)")
            let wrong = try await client.send(.put, "/api/organizations/\(alpha)/client-config", token: seed.alphaAdmin, json: #"{"deployment":{"target":"cloud"}}"#)
            #expect(wrong.status == .unprocessableContent)
            let serverless = try await client.send(.put, "/api/organizations/\(alpha)/client-config", token: seed.alphaAdmin, json: #"{"deployment":{"target":"proxmox"}}"#)
            #expect(serverless.status == .unprocessableContent && serverless.text.contains("needs build_server_id"), "\(serverless.text)")
            let image = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "d.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let queued = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin, json: #"{"image_id":"\#(image)","build_type":"vm"}"#)
            #expect(queued.status == .created, "\(queued.text)")
            let id = try #require((try queued.json()["tasks"] as? [[String: Any]])?.first?["id"] as? String)
            let shown = try await client.send(.get, "/api/vm-build/tasks/\(id)", token: seed.alphaAdmin)
            let task = try shown.json()
            #expect(task["build_server_id"] as? String == "pve-default", "\(shown.text)")
            try await Harness.withBackends(seed) { backends in
                let stored = try await backends.store.repositories.buildTasks.find(id: BuildTaskID(id), scope: .all)
                #expect(stored?.options.deploymentTarget == .proxmox)
            }
        }
    }

    @Test func badFieldsAreRefusedWithWhatIsWrong() async throws {
        try await Harness.withApp(.sqlite) { client, seed in
            let servers = "/api/organizations/\(seed.alpha.id.rawValue)/build-servers"
            let cases: [(String, String)] = [
                (Self.body("Bad Id"), "id:"),
                (Self.body("p1", url: "http://pve.example.org:8006"), "https is required"),
                (Self.body("p2", url: "https://user:pw@pve.example.org:8006"), "url:"),
                (#"{"id":"p3","url":"https://pve:8006","token_id":"root","token_secret":"s","node":"pve1","import_storage":"local"}"#, "token_id:"),
                (Self.body("p4", extra: #","bridge":"vmbr0;rm -rf /""#), "bridge:"),
                (#"{"id":"p5","url":"https://pve:8006","token_id":"a@pve!t","token_secret":"s","node":"pve1","import_storage":"local","vlan":5000}"#, "vlan:"),
                (Self.body("p6", extra: #","ca_pem":"not a certificate""#), "ca_pem:"),
                (Self.body("p7", extra: #","tls_fingerprint":"AB:CD""#), "tls_fingerprint:"),
                (Self.body("p8", extra: #","tls_fingerprint":"\#(String(repeating: "ab", count: 32))","ca_pem":"-----BEGIN CERTIFICATE-----x""#), "not both"),
                (Self.body("p9", extra: #","snippets_storage":"local""#), "go together"),
            ]
            for (body, words) in cases {
                let answer = try await client.send(.post, servers, token: seed.alphaAdmin, json: body)
                #expect(answer.status == .unprocessableContent && answer.errorCode == "invalid_build_server" && answer.text.contains(words), "\(body): \(answer.text)")
                #expect(!answer.text.contains(Self.secret))
            }
        }
    }

    /// An organization admin cannot point the server's check at the cloud's metadata service, nor — when the operator
    /// lists the networks build servers live in — anywhere else: refused with the code, and nothing is connected.
    @Test func checksConnectOnlyWhereBuildServersMayBe() async throws {
        let options = FakeProxmox.Options()
        let fake = try await FakeProxmox.start(options)
        defer { Task { await fake.stop() } }
        @Sendable func register(_ id: String, _ url: String, _ client: any TestClientProtocol, _ seed: Seed) async throws -> TestResponse {
            let servers = "/api/organizations/\(seed.alpha.id.rawValue)/build-servers"
            let body = #"{"id":"\#(id)","url":"\#(url)","token_id":"\#(options.tokenID)","token_secret":"\#(options.tokenSecret)","node":"pve1","import_storage":"local"}"#
            #expect(try await client.send(.post, servers, token: seed.alphaAdmin, json: body).status == .created)
            return try await client.send(.post, "\(servers)/\(id)/check", token: seed.alphaAdmin, json: "{}")
        }
        try await Harness.withApp(.sqlite) { client, seed in
            let metadata = try await register("metadata", "https://169.254.169.254", client, seed).json()
            #expect(metadata["ok"] as? Bool == false)
            #expect((metadata["problems"] as? [String])?.first?.hasPrefix("build_server_address_refused") == true, "\(metadata)")
            let allowed = try await register("pve-fake", fake.url, client, seed).json()
            #expect(allowed["ok"] as? Bool == true, "loopback is not link-local: \(allowed)")
        }
        let before = fake.requests.count
        try await Harness.withApp(.sqlite, configure: { $0.buildServerNetworks = [IPNetwork("10.0.0.0/8")!] }) { client, seed in
            let outside = try await register("pve-fake", fake.url, client, seed).json()
            #expect((outside["problems"] as? [String])?.first?.contains("builds.servers.networks") == true, "\(outside)")
        }
        #expect(fake.requests.count == before, "a refused address was connected to")
    }

    /// `check` through the real server against the fake PVE: a privilege-separated token with no ACLs is explained.
    @Test func checkReportsAPrivsepTokenWithoutACLsInPlainWords() async throws {
        let options = { var options = FakeProxmox.Options(); options.permissions = [:]; return options }()
        let fake = try await FakeProxmox.start(options)
        defer { Task { await fake.stop() } }
        try await Harness.withApp(.sqlite) { client, seed in
            let servers = "/api/organizations/\(seed.alpha.id.rawValue)/build-servers"
            let body = #"{"id":"pve-fake","url":"\#(fake.url)","token_id":"\#(options.tokenID)","token_secret":"\#(options.tokenSecret)","node":"pve1","import_storage":"local"}"#
            #expect(try await client.send(.post, servers, token: seed.alphaAdmin, json: body).status == .created)
            let check = try await client.send(.post, "\(servers)/pve-fake/check", token: seed.alphaAdmin, json: "{}")
            #expect(check.status == .ok, "\(check.text)")
            let answer = try check.json()
            #expect(answer["ok"] as? Bool == false)
            #expect((answer["problems"] as? [String])?.first?.contains("has no permissions at all") == true, "\(check.text)")
            #expect(!check.text.contains(options.tokenSecret))
            #expect(fake.violations.isEmpty, "\(fake.violations)")
        }
    }
}
