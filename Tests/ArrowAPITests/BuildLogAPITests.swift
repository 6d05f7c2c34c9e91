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

/// Build logs through the API: a builder appends under its lease (a retried chunk changes nothing), people read
/// the four names only, by range or following, and the finished logs land at the spec's storage paths.
@Suite struct BuildLogAPITests {
    struct Running {
        let token: String
        let claim: ClaimResponse
    }

    /// An alpha builder holding the lease of a fresh task of alpha.
    static func running(_ client: any TestClientProtocol, _ seed: Seed) async throws -> Running {
        let image = try #require(try await client.upload(ImageFixtures.raw(1 << 20), as: "l.raw", token: seed.alphaAdmin).json()["id"] as? String)
        let account = try await client.send(.post, "/api/organizations/\(seed.alpha.id)/service-accounts", token: seed.alphaAdmin, json: #"{"name":"logger"}"#)
        let token = try #require(try account.json()["token"] as? String)
        _ = try await client.send(.post, "/api/vm-imaging/trigger", token: seed.alphaAdmin,
                                  json: BuildAPITests.trigger("dr-log-\(UUID().uuidString.prefix(6))", images: [image], org: seed.alpha.id.rawValue))
        let claimed = try await client.send(.post, "/api/vm-build/tasks/claim", token: token,
                                            json: #"{"builder":{"name":"l1","version":"1","device_types":["vm"]}}"#)
        return Running(token: token, claim: try WireJSON.decoder().decode(ClaimResponse.self, from: Data(claimed.text.utf8)))
    }

    static func chunk(_ running: Running, file: String, sequence: Int, _ content: String, token: String? = nil) -> String {
        let upload = TaskLogUpload(taskId: running.claim.task.id, attempt: running.claim.lease.attempt,
                                   leaseToken: token ?? running.claim.lease.token, file: file, sequence: sequence, content: content)
        return String(decoding: try! WireJSON.encoder().encode(upload), as: UTF8.self)
    }

    @Test(arguments: TestBackend.allCases)
    func chunksAreIdempotentAndReadableWhileTheBuildRuns(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let run = try await Self.running(client, seed)
            let first = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "download", sequence: 0, "fetching base image\n"))
            #expect(first.status == .created)
            let again = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "download", sequence: 0, "fetching base image\n"))
            #expect(again.status == .ok)
            #expect(try again.json()["stored"] as? Bool == false)
            _ = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "download.log", sequence: 1, "sha256 ok\n"))
            let forged = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "download", sequence: 2, "x", token: "forged"))
            #expect(forged.errorCode == "stale_lease")
            let path = "/api/build-logs/proxy?task=\(run.claim.task.id)&file=download.log"
            let whole = try await client.send(.get, path, token: seed.alphaMember)
            #expect(whole.status == .ok && whole.text == "fetching base image\nsha256 ok\n")
            let part = try await client.send(.get, path, token: seed.alphaMember, headers: [.range: "bytes=9-13"])
            #expect(part.status == .partialContent && part.text == "base ")
            #expect(part.headers[.contentRange] == "bytes 9-13/30")
            let beyond = try await client.send(.get, path, token: seed.alphaMember, headers: [.range: "bytes=500-"])
            #expect(beyond.status.code == 416)
            let empty = try await client.send(.get, "/api/build-logs/proxy?task=\(run.claim.task.id)&file=deploy.log", token: seed.alphaMember)
            #expect(empty.status == .ok && empty.text.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func onlyTheFourNamesOfOwnTasksAreServed(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let run = try await Self.running(client, seed)
            let task = run.claim.task.id
            for name in ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/download.log", "download.log/../../x", "download.log%00",
                         "DOWNLOAD.LOG", "secrets.log", "download.logx", "", "summary.log.log", "/download.log", "build-logs/x/download.log"] {
                let refused = try await client.send(.get, "/api/build-logs/proxy?task=\(task)&file=\(name)", token: seed.alphaAdmin)
                #expect(refused.status == .badRequest && refused.errorCode == "invalid_log_file", "\(name): \(refused.status) \(refused.text)")
            }
            for upload in ["../x", "download/../ansible", "secrets"] {
                let refused = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: upload, sequence: 0, "x"))
                #expect(refused.errorCode == "invalid_log_file", "\(upload)")
            }
            let other = try await client.send(.get, "/api/build-logs/proxy?task=\(seed.betaTaskID)&file=download.log", token: seed.alphaAdmin)
            #expect(other.status == .notFound)
            let forgedTask = try await client.send(.get, "/api/build-logs/proxy?task=..%2F\(seed.betaTaskID)&file=download.log", token: seed.alphaAdmin)
            #expect(forgedTask.status == .notFound)
            let builder = try await client.send(.get, "/api/build-logs/proxy?task=\(task)&file=download.log", token: run.token)
            #expect(builder.status == .forbidden, "builders write logs; people read them")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFollowerSeesLinesAppendedWhileItReadsAndTheFinishedLogsAreArchived(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, seed in
            let run = try await Self.running(client, seed)
            _ = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "ansible", sequence: 0, "PLAY [all]\n"))
            let writer = Task {
                try await Task.sleep(for: .milliseconds(400))
                _ = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "ansible", sequence: 1, "TASK [harden] ok"))
                try await Task.sleep(for: .milliseconds(300))
                _ = try await client.send(.post, "/api/vm-build/task-logs", token: run.token, json: Self.chunk(run, file: "ansible", sequence: 2, "\nPLAY RECAP ok=1\n"))
                let done = TaskStatusReport(taskId: run.claim.task.id, attempt: 1, leaseToken: run.claim.lease.token, event: .succeeded)
                _ = try await client.send(.post, "/api/vm-build/task-status", token: run.token,
                                          json: String(decoding: try WireJSON.encoder().encode(done), as: UTF8.self))
            }
            let followed = try await client.send(.get, "/api/build-logs/proxy?task=\(run.claim.task.id)&file=ansible.log&follow=true", token: seed.alphaMember)
            try await writer.value
            #expect(followed.headers[.contentType] == "text/event-stream")
            #expect(followed.text == "data: PLAY [all]\n\ndata: TASK [harden] ok\n\ndata: PLAY RECAP ok=1\n\nevent: end\ndata: succeeded\n\n", "\(followed.text)")
            // The archiver writes the spec's objects once the task finished.
            try await Harness.withBackends(seed) { backends in
                // This process's archiver or the application's own, whichever takes the task first.
                let key = try StorageLayout.buildLog(organizationID: seed.alpha.id.rawValue, taskID: run.claim.task.id, .ansible)
                let combinedKey = try StorageLayout.combinedLog(client: "acme", platform: "vm", taskID: run.claim.task.id)
                for _ in 0..<100 {
                    try await backends.builds.logs.archiveFinished()
                    if try await backends.blobs.head(combinedKey) != nil { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let (_, body) = try await backends.blobs.get(key, range: nil)
                #expect(String(decoding: try await body.collect(upTo: 1 << 20), as: UTF8.self) == "PLAY [all]\nTASK [harden] ok\nPLAY RECAP ok=1\n")
                let combined = try StorageLayout.combinedLog(client: "acme", platform: "vm", taskID: run.claim.task.id)
                let (_, all) = try await backends.blobs.get(combined, range: nil)
                #expect(String(decoding: try await all.collect(upTo: 1 << 20), as: UTF8.self).contains("=== ansible.log ===\nPLAY [all]"))
            }
            let archived = try await client.send(.get, "/api/build-logs/proxy?task=\(run.claim.task.id)&file=ansible.log", token: seed.alphaMember,
                                                 headers: [.range: "bytes=0-9"])
            #expect(archived.status == .partialContent && archived.text == "PLAY [all]")
        }
    }
}
