import ArrowAPI
import ArrowApp
import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowProtocol
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Client configuration, the builder's configuration reads, notifications, webhooks and statistics over HTTP.
@Suite struct BuildConfigAPITests {
    static let setupKey = "NB-PLANTED-SETUP-KEY-9c1e"

    @Test(arguments: TestBackend.allCases)
    func clientConfigOverHTTPAndTheBuildersLeasedReads(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let alpha = seed.alpha.id.rawValue
            let path = "/api/organizations/\(alpha)/client-config"
            let body = #"{"vpn_config":{"management_url":"https://nb.example.org","setup_key":"\#(Self.setupKey)"},"network_settings":{"hostname":"alpha-lab"}}"#
            var ifMatch = HTTPFields()
            ifMatch[.ifMatch] = #""0""#
            let put = try await client.send(.put, path, token: seed.alphaAdmin, json: body, headers: ifMatch)
            #expect(put.status == .ok, "\(put.text)")
            #expect(!put.text.contains(Self.setupKey))
            #expect(try put.json()["revision"] as? Int == 1 && (try put.json()["secrets_set"] as? [String]) == ["vpn_config.setup_key"])
            let stale = try await client.send(.put, path, token: seed.alphaAdmin, json: body, headers: ifMatch)
            #expect(stale.status == .conflict && stale.errorCode == "revision_mismatch")
            let typo = try await client.send(.put, path, token: seed.alphaAdmin, json: #"{"network_setings":{}}"#)
            #expect(typo.status == .unprocessableContent && typo.errorCode == "unknown_client_config_field" && typo.text.contains("network_setings"))
            let get = try await client.send(.get, path, token: seed.alphaAdmin)
            #expect(get.status == .ok && !get.text.contains(Self.setupKey) && get.text.contains("alpha-lab"))

            // The builder: without its lease, refused; with it, the secret.
            let image = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "cfg.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let trigger = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin,
                                                json: #"{"image_id":"\#(image)","build_type":"vm","organization_id":"\#(alpha)","vm_name":"cfg","build_options":{"software":[{"name":"nmap"}]}}"#)
            #expect(trigger.status == .created, "\(trigger.text)")
            let claim = try await client.send(.post, "/api/vm-build/tasks/claim", token: seed.builder,
                                              json: #"{"builder":{"name":"cfg","version":"1","device_types":["vm"]}}"#)
            let claimed = try WireJSON.decoder().decode(ClaimResponse.self, from: Data(claim.text.utf8))
            let bare = try await client.send(.get, "/api/imaging/client-config/\(alpha)", token: seed.builder)
            #expect(bare.status == .forbidden && bare.errorCode == "lease_required" && !bare.text.contains(Self.setupKey))
            var lease = HTTPFields()
            lease[HTTPField.Name(LeaseHeaders.task)!] = claimed.task.id
            lease[HTTPField.Name(LeaseHeaders.attempt)!] = String(claimed.lease.attempt)
            lease[HTTPField.Name(LeaseHeaders.token)!] = claimed.lease.token
            let secrets = try await client.send(.get, "/api/imaging/client-config/\(alpha)", token: seed.builder, headers: lease)
            #expect(secrets.status == .ok && secrets.text.contains(Self.setupKey))
            let imageConfig = try await client.send(.get, "/api/imaging/image-config/\(claimed.task.id)", token: seed.builder, headers: lease)
            #expect(imageConfig.status == .ok, "\(imageConfig.text)")
            let config = try WireJSON.decoder().decode(ImageConfigDocument.self, from: Data(imageConfig.text.utf8))
            #expect(config.hostname == "alpha-lab" && config.software.map(\.name) == ["nmap"] && config.baseImage.id == image)
            // The presigned URL in it fetches the base image's bytes.
            let url = try #require(URLComponents(string: config.baseImage.downloadUrl))
            let download = try await client.send(.get, url.percentEncodedPath + (url.percentEncodedQuery.map { "?" + $0 } ?? ""))
            #expect(download.status == .ok && download.body.readableBytes == 1 << 20)
            // The alpha admin with the same headers: people never read this.
            #expect(try await client.send(.get, "/api/imaging/client-config/\(alpha)", token: seed.alphaAdmin, headers: lease).status == .forbidden)

            // The task as people see it: phase timings and the four log links.
            _ = try await client.send(.post, "/api/vm-build/task-status", token: seed.builder,
                                      json: #"{"task_id":"\#(claimed.task.id)","attempt":\#(claimed.lease.attempt),"lease_token":"\#(claimed.lease.token)","event":"phase","phase":"customization","progress":50}"#)
            let shown = try await client.send(.get, "/api/vm-build/tasks/\(claimed.task.id)", token: seed.alphaAdmin).json()
            let timings = try #require(shown["phase_timings"] as? [[String: Any]])
            #expect(timings.map { $0["phase"] as? String } == ["preparation", "customization"])
            #expect((shown["logs"] as? [String: String])?.keys.sorted() == ["ansible.log", "deploy.log", "download.log", "summary.log"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func notificationsWebhooksAndStatsOverHTTP(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let alpha = seed.alpha.id.rawValue
            let hooks = "/api/organizations/\(alpha)/webhooks"
            let created = try await client.send(.post, hooks, token: seed.alphaAdmin, json: #"{"url":"https://hooks.example.org/a","events":["build.succeeded"]}"#)
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(try created.json()["secret"] as? String)
            let listed = try await client.send(.get, hooks, token: seed.alphaAdmin)
            #expect(listed.status == .ok && !listed.text.contains(secret) && listed.text.contains("hooks.example.org"))
            for (body, code) in [
                (#"{"url":"http://169.254.169.254/latest"}"#, "webhook_private_address"), (#"{"url":"gopher://x"}"#, "invalid_webhook"),
                (#"{"url":"https://h.example.org","events":["build.exploded"]}"#, "invalid_webhook"),
            ] {
                let refused = try await client.send(.post, hooks, token: seed.alphaAdmin, json: body)
                #expect(refused.status == .unprocessableContent && refused.errorCode == code, "\(body): \(refused.text)")
            }
            let id = try #require(try created.json()["id"] as? String)
            #expect(try await client.send(.delete, "\(hooks)/\(id)", token: seed.alphaAdmin).status == .noContent)
            #expect(try await client.send(.delete, "\(hooks)/\(id)", token: seed.alphaAdmin).status == .notFound)

            let notifications = try await client.send(.get, "/api/notifications?unread=true", token: seed.alphaAdmin)
            let items = try notifications.json()["items"] as? [Any]
            #expect(notifications.status == .ok && items?.isEmpty == true)
            #expect(try await client.send(.post, "/api/notifications/\(UUID().uuidString)/read", token: seed.alphaAdmin).status == .notFound)
            #expect(try await client.send(.post, "/api/notifications/read-all", token: seed.alphaAdmin).json()["marked"] as? Int == 0)

            let stats = try await client.send(.get, "/api/vm-build/stats?window=7d", token: seed.alphaMember)
            let byImage = try stats.json()["by_image"] as? [Any]
            #expect(stats.status == .ok && byImage != nil)
            for window in ["0", "abc", "400d", "-1h"] {
                let bad = try await client.send(.get, "/api/vm-build/stats?window=\(window)", token: seed.alphaAdmin)
                #expect(bad.status == .badRequest && bad.errorCode == "invalid_filter", "window=\(window)")
            }
        }
    }

    /// `require_verified_images`: an image becomes a default only with a passed boot test; without the setting any
    /// active image may.
    @Test(arguments: TestBackend.allCases)
    func anOrganizationRequiringVerificationTakesOnlyVerifiedDefaults(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let alpha = seed.alpha.id.rawValue
            var images: [String] = []
            for name in ["passed", "failed", "never"] {
                images.append(try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "\(name).raw", token: seed.alphaAdmin).json()["id"] as? String))
            }
            let trigger = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin,
                                                json: #"{"image_id":"\#(images[2])","build_type":"vm","organization_id":"\#(alpha)","vm_name":"v"}"#)
            let task = try #require(((try trigger.json()["tasks"] as? [[String: Any]])?.first)?["id"] as? String, "\(trigger.text)")
            // What a builder's deployment phase stores with its artifact (the provenance's verification).
            try await Harness.withBackends(seed) { backends in
                for (image, status) in [(images[0], "passed"), (images[1], "failed")] {
                    try await backends.store.repositories.imageBuilds.record(ImageBuildRecord(
                        imageID: ImageID(image), taskID: BuildTaskID(task), organizationID: seed.alpha.id,
                        provenance: #"{"task_id":"\#(task)","verification":{"status":"\#(status)","checks":[]}}"#, createdAt: Date()))
                }
            }
            let defaults = "/api/organizations/\(alpha)/default_images"
            let anyImage = try await client.send(.put, defaults, token: seed.alphaAdmin, json: #"{"image_ids":["\#(images[2])"]}"#)
            #expect(anyImage.status == .ok, "without the setting, an unverified image may be a default: \(anyImage.text)")

            let policy = try await client.send(.put, "/api/organizations/\(alpha)/client-config", token: seed.alphaAdmin,
                                               json: #"{"require_verified_images":true}"#)
            #expect(policy.status == .ok, "\(policy.text)")
            let failed = try await client.send(.put, defaults, token: seed.alphaAdmin, json: #"{"image_ids":["\#(images[0])","\#(images[1])"]}"#)
            #expect(failed.status == .conflict && failed.errorCode == "image_not_verified" && failed.text.contains("boot test failed"), "\(failed.text)")
            let never = try await client.send(.put, defaults, token: seed.alphaAdmin, json: #"{"image_ids":["\#(images[2])"]}"#)
            #expect(never.status == .conflict && never.text.contains("no boot test result"), "\(never.text)")
            let verified = try await client.send(.put, defaults, token: seed.alphaAdmin, json: #"{"image_ids":["\#(images[0])"]}"#)
            #expect(verified.status == .ok, "\(verified.text)")
            let listed = try await client.send(.get, defaults, token: seed.alphaAdmin)
            #expect((try listed.json()["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [images[0]], "a refused change leaves the defaults as they were")
        }
    }
}
