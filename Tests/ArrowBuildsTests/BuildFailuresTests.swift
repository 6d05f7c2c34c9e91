import ArrowApp
@testable import ArrowBuilds
import ArrowCore
import ArrowProtocol
import ArrowTesting
import Foundation
import Testing

/// "Review logs": failures grouped by code, phase and the failing Ansible task, from the logs builders sent.
@Suite struct BuildFailuresTests {
    /// One build that fails in `phase` with `code` after sending `log` as its ansible.log.
    static func fail(_ fixture: QueueFixture, _ queue: BuildQueue, image: ImageID, phase: String, code: String, ansibleLog: String) async throws -> String {
        try await fixture.enqueue(1, image: image, organization: fixture.alpha)
        let claim = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: fixture.builder))
        _ = try await queue.report(claim.report(.phase, phase: phase, progress: 30), principal: fixture.builder)
        let logs = BuildLogs(store: fixture.store, blobs: fixture.backends.blobs)
        if !ansibleLog.isEmpty {
            _ = try await logs.append(TaskLogUpload(taskId: claim.task.id, attempt: claim.lease.attempt, leaseToken: claim.lease.token, file: "ansible",
                                                    sequence: 0, content: ansibleLog), principal: fixture.builder)
        }
        _ = try await queue.report(claim.report(.failed, code: code), principal: fixture.builder)
        return claim.task.id
    }

    static func ansibleLog(noise: Int, role: String, task: String) -> String {
        var lines = ["PLAY [image] *****", "", "TASK [Gathering Facts] *****", "ok: [image]"]
        for index in 0..<noise { lines += ["TASK [\(role) : step \(index)] ****", "ok: [image]"] }
        lines += ["TASK [\(role) : \(task)] ****", #"fatal: [image]: FAILED! => {"changed": false, "msg": "No package matching 'chromium-xx' is available"}"#,
                  "", "PLAY RECAP *****", "image : ok=3 changed=1 unreachable=0 failed=1"]
        return lines.joined(separator: "\n") + "\n"
    }

    @Test(arguments: TestBackend.allCases)
    func threeBuildsFailingAtTheSameAnsibleTaskAreOneLine(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { fixture, queue in
            let image = try await fixture.image(fixture.alpha)
            var same: [String] = []
            for noise in [0, 2, 5] {
                same.append(try await Self.fail(fixture, queue, image: image, phase: "customization", code: "ansible_failed",
                                                ansibleLog: Self.ansibleLog(noise: noise, role: "web-testing", task: "Install chromium")))
            }
            _ = try await Self.fail(fixture, queue, image: image, phase: "customization", code: "ansible_failed",
                                    ansibleLog: Self.ansibleLog(noise: 1, role: "harden_ssh", task: "Disable password login"))
            _ = try await Self.fail(fixture, queue, image: image, phase: "preparation", code: "disk_space", ansibleLog: "")
            // Another organization's failure is not in alpha's report.
            let betaImage = try await fixture.image(fixture.beta)
            try await fixture.enqueue(1, image: betaImage, organization: fixture.beta)

            let report = try await BuildFailures(store: fixture.store).report(principal: fixture.admin, since: Date().addingTimeInterval(-3600))
            #expect(report.failures == 5)
            #expect(report.groups.count == 3)
            let top = try #require(report.groups.first)
            #expect(top.count == 3 && top.code == "ansible_failed" && top.phase == "customization")
            #expect(top.role == "web-testing" && top.ansibleTask == "Install chromium")
            #expect(Set(top.examples.map(\.taskId)) == Set(same))
            // Each example points at its own fatal line (the noise moved it).
            #expect(Set(top.examples.compactMap(\.line)) == [6, 10, 16])
            let example = try #require(top.examples.first { $0.line == 6 })
            #expect(example.logUrl == "/api/build-logs/proxy?task=\(example.taskId)&file=ansible.log")
            #expect(example.consoleUrl == "/console/task?id=\(example.taskId)#ansible-L6")
            #expect(report.groups.contains { $0.role == "harden_ssh" && $0.ansibleTask == "Disable password login" && $0.count == 1 })
            #expect(report.groups.contains { $0.code == "disk_space" && $0.phase == "preparation" && $0.role == nil && $0.count == 1 })
            #expect(top.firstSeen <= top.lastSeen)
            // A window that ends before them holds none.
            let empty = try await BuildFailures(store: fixture.store).report(principal: fixture.admin, since: Date().addingTimeInterval(60))
            #expect(empty.groups.isEmpty)
        }
    }

    @Test func theFailingTaskIsTheHeaderAboveTheFirstFatalLine() {
        let log = Self.ansibleLog(noise: 1, role: "web-testing", task: "Install chromium")
        #expect(BuildFailures.ansibleFailure(in: log) == .init(role: "web-testing", task: "Install chromium", line: 8))
        #expect(BuildFailures.ansibleFailure(in: "TASK [Gathering Facts] ***\nfailed: [image] (item=x) => {}\n") == .init(role: nil, task: "Gathering Facts", line: 2))
        #expect(BuildFailures.ansibleFailure(in: "ERROR! the role 'nope' was not found\n")?.task == "ERROR! the role 'nope' was not found")
        #expect(BuildFailures.ansibleFailure(in: "PLAY RECAP\nimage : ok=3 failed=0\n") == nil)
    }
}
