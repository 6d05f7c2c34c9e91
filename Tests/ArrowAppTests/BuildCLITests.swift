import ArrowTesting
import Foundation
import Testing

/// What an admin watches a build with, against a live server: `arrow build trigger|list|show|logs --follow|cancel|retry`,
/// `arrow builders`, `arrow device-request list|show`. The builder's side is played over HTTP.
@Suite(.serialized) struct BuildCLITests {
    @Test func anAdminTriggersWatchesAndFollowsABuild() async throws {
        let installation = try TestInstallation()
        let server = try await installation.serve(stderrFile: installation.dataDir + "/serve.log")
        defer { _ = try? server.terminate() }
        let env = ["ARROW_API": installation.base, "ARROW_TOKEN": installation.token]
        let file = try installation.sparseFile("base.raw", size: 2 << 20)
        let (_, uploaded, _) = try ArrowProcess.run(["image", "upload", file, "--name", "base"], environment: env)
        let image = try #require(uploaded.split(separator: "\n").last.map(String.init))
        let (status, triggered, err) = try ArrowProcess.run(["build", "trigger", image, "--client", "acme", "--options", #"{"ansible_flags":{"harden_ssh":true}}"#], environment: env)
        #expect(status == 0, "\(err)")
        let task = try #require(triggered.split(separator: "\n").last.map(String.init))
        let bad = try ArrowProcess.run(["build", "trigger", image, "--options", #"{"colour":"blue"}"#], environment: env)
        #expect(bad.0 == 1 && bad.2.contains("unknown_build_option"))

        // The builder: a service account claims the task and reports.
        let me = try JSONSerialization.jsonObject(with: await HTTP.send("GET", "\(installation.base)/api/me", token: installation.token)?.2 ?? Data()) as? [String: Any]
        let org = try #require((me?["organization"] as? [String: Any])?["id"] as? String)
        let account = await HTTP.send("POST", "\(installation.base)/api/organizations/\(org)/service-accounts", token: installation.token, json: #"{"name":"cli-builder"}"#)
        let builderToken = try #require((try JSONSerialization.jsonObject(with: account?.2 ?? Data()) as? [String: Any])?["token"] as? String)
        let claimed = await HTTP.send("POST", "\(installation.base)/api/vm-build/tasks/claim", token: builderToken,
                                      json: #"{"builder":{"name":"cli-1","version":"1","device_types":["vm"]}}"#)
        let claim = try #require(try JSONSerialization.jsonObject(with: claimed?.2 ?? Data()) as? [String: Any])
        let lease = try #require(claim["lease"] as? [String: Any])
        let leaseToken = try #require(lease["token"] as? String)
        func report(_ members: String) async { _ = await HTTP.send("POST", "\(installation.base)/api/vm-build/task-status", token: builderToken, json: #"{"task_id":"\#(task)","attempt":1,"lease_token":"\#(leaseToken)",\#(members)}"#) }
        func log(_ sequence: Int, _ text: String) async {
            _ = await HTTP.send("POST", "\(installation.base)/api/vm-build/task-logs", token: builderToken,
                                json: #"{"task_id":"\#(task)","attempt":1,"lease_token":"\#(leaseToken)","file":"ansible","sequence":\#(sequence),"content":"\#(text)"}"#)
        }
        await report(#""event":"phase","phase":"customization","progress":40"#)
        await log(0, "PLAY [all]\\n")

        let shown = try ArrowProcess.run(["build", "show", task], environment: env)
        #expect(shown.1.contains("running · customization") && shown.1.contains("40%"), "\(shown.1)")
        #expect(try ArrowProcess.run(["build", "list", "--status", "running"], environment: env).1.contains(task))
        #expect(try ArrowProcess.run(["builders"], environment: env).1.contains("cli-1"))

        // logs --follow prints lines appended while it runs, and ends with the task.
        let follower = try ArrowProcess(["build", "logs", task, "--file", "ansible", "--follow"], environment: env)
        try await Task.sleep(for: .milliseconds(500))
        await log(1, "TASK [harden] ok\\n")
        try await Task.sleep(for: .milliseconds(400))
        await report(#""event":"succeeded""#)
        let out = follower.stdout.fileHandleForReading.readDataToEndOfFile()
        let followErr = follower.stderr.fileHandleForReading.readDataToEndOfFile()
        follower.process.waitUntilExit()
        #expect(String(decoding: out, as: UTF8.self) == "PLAY [all]\nTASK [harden] ok\n")
        #expect(String(decoding: followErr, as: UTF8.self).contains("task succeeded"))
        #expect(try ArrowProcess.run(["build", "logs", task, "--file", "ansible"], environment: env).1 == "PLAY [all]\nTASK [harden] ok\n")
        #expect(try ArrowProcess.run(["build", "show", task, "--watch"], environment: env).0 == 0, "a succeeded task ends the watch with 0")

        let again = try ArrowProcess.run(["build", "retry", task], environment: env)
        #expect(again.0 == 3 && again.2.contains("not_retryable"), "a conflict exits 3")
        let second = try #require(try ArrowProcess.run(["build", "trigger", image], environment: env).1.split(separator: "\n").last.map(String.init))
        #expect(try ArrowProcess.run(["build", "cancel", second], environment: env).1.contains("canceled"))
        #expect(try ArrowProcess.run(["build", "show", second, "--watch"], environment: env).0 == 1)
        #expect(try ArrowProcess.run(["build", "retry", second, "--fresh"], environment: env).1.contains("queued"))
        #expect(try ArrowProcess.run(["device-request", "list"], environment: env).0 == 0)
    }
}
