import ArrowApp
import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Build templates over the API on both databases: saved, validated, run by hand, and rebuilt once when a new version
/// of their base image is uploaded, each run recording the template's revision.
@Suite struct BuildTemplateAPITests {
    static func id(_ response: TestResponse) throws -> String { try #require(try response.json()["id"] as? String) }

    @Test(arguments: TestBackend.allCases)
    func aNewBaseVersionUploadTriggersItsTemplatesOnceWithTheirRevision(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let v1 = try Self.id(try await client.upload(try ImageFixtures.qcow2(padTo: (1 << 20) + 4096), as: "base.qcow2", name: "base", token: seed.alphaAdmin))
            let path = "/api/organizations/\(seed.alpha.id)/build-templates"
            let body = #"{"name":"web","base_image_id":"\#(v1)","follow_latest":true,"build_options":{"ansible_flags":{"harden_ssh":true}},"time_zone":"Europe/Berlin"}"#
            let created = try await client.send(.post, path, token: seed.alphaAdmin, json: body)
            #expect(created.status == .created, "\(created.text)")
            let template = try created.json()
            let templateID = try #require(template["id"] as? String)
            #expect(template["revision"] as? Int == 1 && template["last_base_image_id"] as? String == v1)
            // A second template that does not follow its base is not fired by new versions.
            #expect(try await client.send(.post, path, token: seed.alphaAdmin, json: #"{"name":"pinned","base_image_id":"\#(v1)"}"#).status == .created)

            // The app's own scheduler service ticks too (at start-up and every 15 s), so which tick fires a run is a race:
            // what must hold is the set of runs in the database after ticking, whoever ticked.
            func tickAndListRuns() async throws -> [TemplateRun] {
                try await Harness.withBackends(seed) { backends in
                    _ = try await backends.builds.scheduler.tick(at: Date())
                    return try await backends.store.repositories.buildTemplates.runs(template: BuildTemplateID(rawValue: templateID), limit: 10)
                }
            }
            #expect(try await tickAndListRuns().isEmpty, "nothing new yet")
            let v2 = try Self.id(try await client.upload(try ImageFixtures.qcow2(padTo: (1 << 20) + 8192), as: "base.qcow2", name: "base",
                                                         token: seed.alphaAdmin, extra: [("previous_version_id", v1)]))
            let fired = try await tickAndListRuns()
            #expect(fired.count == 1)
            #expect(fired.first?.trigger == .baseImage && fired.first?.triggerKey == "base:\(v2)" && fired.first?.revision == 1)
            #expect(try await tickAndListRuns().count == 1, "the same new version fired twice")
            let taskID = try #require(fired.first?.taskID?.rawValue)
            let task = try await client.send(.get, "/api/vm-build/tasks/\(taskID)", token: seed.alphaAdmin).json()
            #expect(task["image_id"] as? String == v2, "the rebuild is not of the new version")
            #expect(task["description"] as? String == "template web revision 1 (base_image)")

            // A new revision, then a new version: the run records revision 2.
            let revised = try await client.send(.put, "\(path)/\(templateID)", token: seed.alphaAdmin,
                                                json: body.replacingOccurrences(of: "harden_ssh", with: "install_monitoring"), headers: [.ifMatch: "\"1\""])
            #expect(revised.status == .ok)
            let revision = try revised.json()["revision"] as? Int
            #expect(revision == 2)
            let stale = try await client.send(.put, "\(path)/\(templateID)", token: seed.alphaAdmin, json: body, headers: [.ifMatch: "\"1\""])
            #expect(stale.errorCode == "revision_mismatch")
            let v3 = try Self.id(try await client.upload(try ImageFixtures.qcow2(padTo: (1 << 20) + 12288), as: "base.qcow2", name: "base",
                                                         token: seed.alphaAdmin, extra: [("previous_version_id", v2)]))
            let again = try await tickAndListRuns()
            #expect(Set(again.map { "\($0.revision) \($0.triggerKey)" }) == ["1 base:\(v2)", "2 base:\(v3)"])

            let runs = try await client.send(.get, "\(path)/\(templateID)/runs", token: seed.alphaMember).json()["items"] as? [[String: Any]] ?? []
            #expect(runs.map { $0["revision"] as? Int } == [2, 1])
            #expect(runs.allSatisfy { $0["status"] as? String == "building" && $0["trigger"] as? String == "base_image" })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func templatesAreValidatedRunByHandAndKeptPerOrganization(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let image = try Self.id(try await client.upload(try ImageFixtures.qcow2(), as: "b.qcow2", name: "b", token: seed.alphaAdmin))
            let path = "/api/organizations/\(seed.alpha.id)/build-templates"
            func post(_ json: String) async throws -> TestResponse { try await client.send(.post, path, token: seed.alphaAdmin, json: json) }
            #expect(try await post(#"{"name":"x","base_image_id":"\#(image)","schedule":"61 * * * *"}"#).errorCode == "invalid_schedule")
            #expect(try await post(#"{"name":"x","base_image_id":"\#(image)","schedule":"@daily","time_zone":"Mars/Base"}"#).errorCode == "invalid_time_zone")
            #expect(try await post(#"{"name":"x","base_image_id":"\#(image)","colour":"red"}"#).errorCode == "unknown_field")
            #expect(try await post(#"{"name":"x","base_image_id":"\#(image)","build_options":{"ansible_flags":{"rm_rf":true}}}"#).status == .unprocessableContent)
            #expect(try await post(#"{"name":"x","base_image_id":"no-such-image"}"#).status == .notFound)
            let created = try await post(#"{"name":"nightly","base_image_id":"\#(image)","schedule":"0 3 * * *","time_zone":"UTC"}"#)
            #expect(created.status == .created)
            let template = try created.json()
            #expect((template["next_run_at"] as? String)?.hasSuffix("T03:00:00Z") == true, "next run shown")
            #expect(try await post(#"{"name":"nightly","base_image_id":"\#(image)"}"#).errorCode == "template_exists")
            let id = try #require(template["id"] as? String)
            let run = try await client.send(.post, "\(path)/\(id)/run", token: seed.alphaAdmin, json: "{}")
            #expect(run.status == .created)
            let taskID = try #require(try run.json()["task_id"] as? String)
            #expect(try await client.send(.get, "/api/vm-build/tasks/\(taskID)", token: seed.alphaAdmin).json()["status"] as? String == "queued")
            // Members read, do not write; other organizations see nothing.
            #expect(try await client.send(.get, path, token: seed.alphaMember).status == .ok)
            #expect(try await client.send(.post, "\(path)/\(id)/run", token: seed.alphaMember, json: "{}").status == .forbidden)
            #expect(try await client.send(.get, "/api/organizations/\(seed.beta.id)/build-templates/\(id)", token: seed.betaAdmin).status == .notFound)
            #expect(try await client.send(.get, "\(path)/\(id)", token: seed.betaAdmin).status == .notFound)
            #expect(try await client.send(.delete, "\(path)/\(id)", token: seed.alphaAdmin).status == .noContent)
            #expect(try await client.send(.get, "\(path)/\(id)", token: seed.alphaAdmin).status == .notFound)
        }
    }
}
