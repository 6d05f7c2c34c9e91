import ArrowAPI
import ArrowApp
import ArrowBuilds
import ArrowCore
import ArrowProtocol
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The build API end to end: triggers, the builder's claim and reports, what people read, on both databases.
@Suite struct BuildAPITests {
    static func trigger(_ id: String, images: [String], org: String, device: String = "vm") -> String {
        let list = images.map { #"{"id":"\#($0)","name":"img","metadata":{"purpose":"test","cores":2}}"# }.joined(separator: ",")
        return #"{"request_id":"\#(id)","device_type":"\#(device)","images":[\#(list)],"organization":"\#(org)","client":"acme","timestamp":"2026-11-30T10:30:00Z"}"#
    }

    @Test(arguments: TestBackend.allCases)
    func aTriggerQueuesOneTaskPerImageOnceAndChecksEveryImage(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let a = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "a.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let b = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "b.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let alpha = seed.alpha.id.rawValue
            let first = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin, json: Self.trigger("dr-1", images: [a, b], org: alpha))
            #expect(first.status == .created, "\(first.text)")
            let tasks = try #require(try first.json()["tasks"] as? [[String: Any]])
            #expect(tasks.map { $0["image_id"] as? String } == [a, b])
            #expect(tasks.allSatisfy { $0["status"] as? String == "queued" })
            // The same request again: nothing new, the same tasks.
            let again = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin, json: Self.trigger("dr-1", images: [a, b], org: alpha))
            #expect(again.status == .ok)
            #expect(try again.json()["created"] as? Bool == false)
            #expect((try again.json()["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == tasks.map { $0["id"] as? String })
            let conflict = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin, json: Self.trigger("dr-1", images: [a], org: alpha))
            #expect(conflict.status == .conflict && conflict.errorCode == "request_conflict")
            // Another organization's image that is not shared: 404, and nothing was written.
            let foreign = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin,
                                                json: Self.trigger("dr-2", images: [a, seed.betaImageID], org: alpha))
            #expect(foreign.status == .notFound)
            #expect(try await client.send(.get, "/api/device-requests/dr-2", token: seed.alphaAdmin).status == .notFound)
            // Once shared, it may be built.
            let share = try await client.send(.post, "/api/vm_images/\(seed.betaImageID)/shares", token: seed.betaAdmin,
                                              json: #"{"organization_id":"\#(alpha)"}"#)
            #expect(share.status == .created)
            let shared = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin,
                                               json: Self.trigger("dr-2", images: [a, seed.betaImageID], org: alpha))
            #expect(shared.status == .created)
            // A deleted image is refused.
            #expect(try await client.send(.delete, "/api/vm_images/\(b)", token: seed.alphaAdmin).status == .conflict, "b is in use")
            let c = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "c.raw", token: seed.alphaAdmin).json()["id"] as? String)
            #expect(try await client.send(.delete, "/api/vm_images/\(c)", token: seed.alphaAdmin).status == .noContent)
            let deleted = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin, json: Self.trigger("dr-3", images: [c], org: alpha))
            #expect([404, 409].contains(deleted.status.code))
            // Field checks.
            for (body, code) in [
                (Self.trigger("dr-4", images: [a], org: alpha, device: "phone"), "invalid_device_type"),
                (Self.trigger("dr-4", images: [], org: alpha), "no_images"),
                (Self.trigger("dr-4", images: [a, a], org: alpha), "duplicate_image"),
                (Self.trigger("../etc", images: [a], org: alpha), "invalid_request_id"),
                (Self.trigger("dr-4", images: [a], org: alpha).replacingOccurrences(of: "2026-11-30T10:30:00Z", with: "yesterday"), "invalid_timestamp"),
            ] {
                let refused = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin, json: body)
                #expect(refused.status == .unprocessableContent && refused.errorCode == code, "\(code): \(refused.text)")
            }
            let member = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaMember, json: Self.trigger("dr-5", images: [a], org: alpha))
            #expect(member.status == .forbidden)
            // The device request lists its tasks; the dispatch is recorded (skipped: no webhook URL configured here).
            let request = try await client.send(.get, "/api/device-requests/dr-1", token: seed.alphaMember)
            #expect(try request.json()["status"] as? String == "pending")
            #expect((try request.json()["tasks"] as? [[String: Any]])?.count == 2)
            let dispatches = try await client.send(.get, "/api/vm-imaging/dispatches", token: seed.alphaAdmin)
            let subjects = (try dispatches.json()["items"] as? [[String: Any]])?.compactMap { $0["subject"] as? String } ?? []
            #expect(Set(subjects) == ["device_request:dr-1", "device_request:dr-2"], "one dispatch per new request, none for the repeat")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aManualBuildRefusesUnknownOptionsByName(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let image = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "m.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let unknown = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin,
                                                json: #"{"image_id":"\#(image)","build_type":"vm","build_options":{"software":[],"sofware":[]}}"#)
            #expect(unknown.status == .unprocessableContent && unknown.errorCode == "unknown_build_option")
            #expect(unknown.text.contains("build_options.sofware"))
            let badFlag = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin,
                                                json: #"{"image_id":"\#(image)","build_type":"vm","build_options":{"ansible_flags":{"install_rootkit":true}}}"#)
            #expect(badFlag.errorCode == "unknown_ansible_flag")
            let badType = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin,
                                                json: #"{"image_id":"\#(image)","build_type":"vm","build_options":{"resource_allocation":{"cores":"many"}}}"#)
            #expect(badType.status == .badRequest && badType.text.contains("resource_allocation.cores"), "\(badType.text)")
            let made = try await client.send(.post, "/api/vm-build/trigger", token: seed.alphaAdmin, json: #"""
                {"image_id":"\#(image)","image_name":"m","build_server_id":"srv-1","build_type":"pvm","client_id":"acme",
                 "build_options":{"software":[{"name":"nmap","version":"latest","ansible_role":"security-tools"}],
                 "ansible_flags":{"harden_ssh":true},"resource_allocation":{"cores":2,"memory_mb":2048}},
                 "vm_name":"lab-1","description":"lab","notify_on_complete":true}
                """#)
            #expect(made.status == .created, "\(made.text)")
            let id = try #require((try made.json()["tasks"] as? [[String: Any]])?.first?["id"] as? String)
            let shown = try await client.send(.get, "/api/vm-build/tasks/\(id)", token: seed.alphaMember).json()
            #expect(shown["device_type"] as? String == "pvm" && shown["build_server_id"] as? String == "srv-1")
            #expect(shown["vm_name"] as? String == "lab-1" && shown["notify_on_complete"] as? Bool == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBuilderClaimsReportsAndFinishesWhilePeopleWatch(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let image = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "w.raw", token: seed.alphaAdmin).json()["id"] as? String)
            let builder = try await client.send(.post, "/api/organizations/\(seed.alpha.id)/service-accounts", token: seed.alphaAdmin,
                                                json: #"{"name":"alpha-builder"}"#)
            let token = try #require(try builder.json()["token"] as? String, "\(builder.text)")
            let registration = #"{"builder":{"name":"w1","version":"0.1","device_types":["vm"],"roles":["web-testing","harden_ssh"]},"wait":0}"#
            #expect(try await client.send(.post, "/api/vm-build/tasks/claim", token: token, json: registration).status == .noContent)
            _ = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin,
                                      json: Self.trigger("dr-w", images: [image], org: seed.alpha.id.rawValue))
            let listed = try await client.send(.get, "/api/vm-build/tasks", token: token).json()["items"] as? [[String: Any]]
            #expect(listed?.count == 1, "the builder sees alpha's queued task and not beta's")
            let claimed = try await client.send(.post, "/api/vm-build/tasks/claim", token: token, json: registration)
            #expect(claimed.status == .created)
            let claim = try WireJSON.decoder().decode(ClaimResponse.self, from: Data(claimed.text.utf8))
            #expect(claim.task.status == "running" && claim.lease.attempt == 1)
            let request = try await client.send(.get, "/api/device-requests/dr-w", token: seed.alphaAdmin).json()
            #expect(request["status"] as? String == "imaging")
            func report(_ body: TaskStatusReport) async throws -> TestResponse {
                try await client.send(.post, "/api/vm-build/task-status", token: token,
                                      json: String(decoding: try WireJSON.encoder().encode(body), as: UTF8.self))
            }
            let phase = try await report(TaskStatusReport(taskId: claim.task.id, attempt: 1, leaseToken: claim.lease.token, event: .phase,
                                                          phase: "customization", progress: 45))
            #expect(phase.status == .ok, "\(phase.text)")
            let watched = try await client.send(.get, "/api/vm-build/tasks/\(claim.task.id)", token: seed.alphaMember).json()
            #expect(watched["phase"] as? String == "customization" && watched["progress"] as? Int == 45)
            #expect(watched["completed_phases"] as? [String] == ["preparation"])
            let forged = try await report(TaskStatusReport(taskId: claim.task.id, attempt: 1, leaseToken: "forged", event: .succeeded))
            #expect(forged.status == .conflict && forged.errorCode == "stale_lease")
            #expect(!forged.text.contains(claim.lease.token), "an error never echoes a lease token")
            let badCode = try await report(TaskStatusReport(taskId: claim.task.id, attempt: 1, leaseToken: claim.lease.token, event: .failed,
                                                            errorCode: "cosmic_rays"))
            #expect(badCode.errorCode == "invalid_error_code")
            let builders = try await client.send(.get, "/api/builders", token: seed.alphaAdmin).json()["items"] as? [[String: Any]]
            #expect(builders?.first { $0["name"] as? String == "w1" }?["current_task_id"] as? String == claim.task.id)
            // The roles it offers, for the console's trigger form.
            #expect(builders?.first { $0["name"] as? String == "w1" }?["roles"] as? [String] == ["harden_ssh", "web-testing"])
            let done = try await report(TaskStatusReport(taskId: claim.task.id, attempt: 1, leaseToken: claim.lease.token, event: .succeeded,
                                                         artifactImageId: image))
            #expect(done.status == .ok)
            let finished = try await client.send(.get, "/api/vm-build/tasks/\(claim.task.id)", token: seed.alphaMember).json()
            #expect(finished["status"] as? String == "succeeded" && finished["artifact_image_id"] as? String == image)
            #expect(try await client.send(.get, "/api/device-requests/dr-w", token: seed.alphaAdmin).json()["status"] as? String == "ready")
            // A human may not claim or report, not even a superuser.
            #expect(try await client.send(.post, "/api/vm-build/tasks/claim", token: seed.superuser, json: registration).status == .forbidden)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func retryAndCancelOverTheAPI(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let id = seed.betaTaskID
            // The seed's task starts canceled: retry it, cancel it, retry it again.
            let first = try await client.send(.post, "/api/vm-build/tasks/\(id)/retry", token: seed.betaAdmin)
            #expect(try first.json()["status"] as? String == "queued")
            #expect(try await client.send(.get, "/api/device-requests/\(seed.betaDeviceRequestID)", token: seed.betaAdmin).json()["status"] as? String
                == "imaging")
            let canceled = try await client.send(.post, "/api/vm-build/tasks/\(id)/cancel", token: seed.betaAdmin)
            #expect(canceled.status == .ok)
            #expect(try canceled.json()["status"] as? String == "canceled")
            #expect(try await client.send(.get, "/api/device-requests/\(seed.betaDeviceRequestID)", token: seed.betaAdmin).json()["status"] as? String
                == "canceled")
            let twice = try await client.send(.post, "/api/vm-build/tasks/\(id)/cancel", token: seed.betaAdmin)
            #expect(twice.status == .conflict)
            let retried = try await client.send(.post, "/api/vm-build/tasks/\(id)/retry?fresh=true", token: seed.betaAdmin)
            #expect(retried.status == .ok)
            #expect(try retried.json()["status"] as? String == "queued")
            let notAgain = try await client.send(.post, "/api/vm-build/tasks/\(id)/retry", token: seed.betaAdmin)
            #expect(notAgain.status == .conflict && notAgain.errorCode == "not_retryable")
            let member = try await client.send(.post, "/api/vm-build/tasks/\(id)/cancel", token: seed.betaMember)
            #expect(member.status == .forbidden)
            let filtered = try await client.send(.get, "/api/vm-build/tasks?status=queued&device_request_id=\(seed.betaDeviceRequestID)",
                                                 token: seed.betaMember).json()["items"] as? [[String: Any]]
            #expect(filtered?.map { $0["id"] as? String } == [id])
            #expect(try await client.send(.get, "/api/vm-build/tasks?status=lost", token: seed.betaMember).errorCode == "invalid_filter")
        }
    }
}
