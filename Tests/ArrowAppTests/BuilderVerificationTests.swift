import ArrowTesting
import Foundation
import Testing

/// The deployment phase's boot test when the artifact fails it: a role whose declared check cannot pass. The task
/// ends `verify_failed`, the artifact stays stored with every check's result (the failing one named), and no VM,
/// loop device or mount is left. Part of the builder's serialized suite.
extension BuilderEndToEndTests {
    @Test func anArtifactFailingACheckEndsVerifyFailedAndKeepsTheResults() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let roles = world.installation.dataDir + "/roles"
        try FileManager.default.createDirectory(atPath: roles + "/impossible/tasks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: roles + "/impossible/meta", withIntermediateDirectories: true)
        try "---\n- name: Installs nothing\n  ansible.builtin.debug:\n    msg: nothing to do\n"
            .write(toFile: roles + "/impossible/tasks/main.yml", atomically: true, encoding: .utf8)
        try #"{"each_software": {"name": "{software} is installed", "command": ["sh", "-c", "command -v \"$1\"", "check", "{software}"]}}"#
            .write(toFile: roles + "/impossible/meta/arrow-checks.json", atomically: true, encoding: .utf8)
        let taskID = try world.trigger(#"{"software":[{"name":"no-such-tool","ansible_role":"impossible"}]}"#, vmName: "unverified")
        let (status, output) = try world.runBuilder(roles: roles)
        #expect(status == 1, "\(output.suffix(3000))")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "failed" && task["error_code"] as? String == "verify_failed", "\(task)")
        let message = try #require(task["error_message"] as? String)
        #expect(message.contains("no-such-tool is installed"), "\(message)")

        // The artifact is stored, with the verification that failed.
        let words = message.split(separator: " ").map(String.init)
        let artifact = try #require(words.firstIndex(of: "artifact").map { words[$0 + 1] }, "the message names the artifact: \(message)")
        let contents = await HTTP.send("GET", "\(world.installation.base)/api/vm_images/\(artifact)/contents", token: world.installation.token)
        let provenance = try #require(try JSONSerialization.jsonObject(with: contents?.2 ?? Data()) as? [String: Any], "\(contents?.0 ?? 0)")
        let verification = try #require(provenance["verification"] as? [String: Any])
        #expect(verification["status"] as? String == "failed")
        var passed: [String: Bool] = [:]
        for check in verification["checks"] as? [[String: Any]] ?? [] {
            if let name = check["name"] as? String { passed[name] = check["passed"] as? Bool }
        }
        #expect(passed["no-such-tool is installed"] == false && passed["systemd reached running"] == true, "\(passed)")
        let deploy = try ArrowProcess.run(["build", "logs", taskID, "--file", "deploy"], environment: world.env).1
        #expect(deploy.contains("check FAILED: no-such-tool is installed"), "\(deploy.suffix(2000))")
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
        #expect(!Self.qemuRunning(under: world.installation.dataDir), "the test VM was left running")

        // The check fixed, a retry resumes at deployment: the stored artifact is deployed again, not rebuilt.
        try #"{"each_software": {"name": "{software} is installed", "command": ["true"]}}"#
            .write(toFile: roles + "/impossible/meta/arrow-checks.json", atomically: true, encoding: .utf8)
        let retry = try ArrowProcess.run(["build", "retry", taskID], environment: world.env)
        #expect(retry.0 == 0, "\(retry.2)")
        let (again, againOutput) = try world.runBuilder(roles: roles)
        #expect(again == 0, "\(againOutput.suffix(3000))")
        let retried = try await world.task(taskID)
        #expect(retried["status"] as? String == "succeeded" && retried["attempt"] as? Int == 2, "\(retried)")
        #expect(retried["artifact_image_id"] as? String == artifact, "the artifact the first attempt stored, not a new one")
        #expect(againOutput.contains("resuming at deployment with artifact \(artifact)") && !againOutput.contains("converting the base image"),
                "\(againOutput.suffix(3000))")
        let after = await HTTP.send("GET", "\(world.installation.base)/api/vm_images/\(artifact)/contents", token: world.installation.token)
        let redone = try #require(try JSONSerialization.jsonObject(with: after?.2 ?? Data()) as? [String: Any])
        #expect((redone["verification"] as? [String: Any])?["status"] as? String == "passed", "the new verification replaced the failed one")
        #expect(Mounts.clean() && !Self.qemuRunning(under: world.installation.dataDir))
    }

    /// A qemu-system process whose command line names `directory`.
    static func qemuRunning(under directory: String) -> Bool {
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if line.hasPrefix("qemu-system") && line.contains(directory) { return true }
        }
        return false
    }
}
