import ArrowTesting
import Foundation
import Testing

/// `arrow template …` and `arrow build failures` against a live server; the builder's side is played over HTTP.
@Suite(.serialized) struct TemplateCLITests {
    @Test func anAdminSavesRunsAndReviewsATemplateAndReadsTheFailureReport() async throws {
        let installation = try TestInstallation()
        let server = try await installation.serve(stderrFile: installation.dataDir + "/serve.log")
        defer { _ = try? server.terminate() }
        let env = ["ARROW_API": installation.base, "ARROW_TOKEN": installation.token]
        let file = try installation.sparseFile("base.raw", size: 2 << 20)
        let image = try #require(try ArrowProcess.run(["image", "upload", file, "--name", "base"], environment: env).1.split(separator: "\n").last.map(String.init))

        let created = try ArrowProcess.run(["template", "create", "--name", "weekly", "--image", image, "--latest", "--schedule", "0 4 * * mon",
                                            "--time-zone", "Europe/Berlin", "--options", #"{"ansible_flags":{"harden_ssh":true}}"#], environment: env)
        #expect(created.0 == 0, "\(created.2)")
        let id = try #require(created.1.split(separator: "\t").first.map(String.init))
        #expect(created.1.contains("schedule 0 4 * * mon Europe/Berlin") && created.1.contains("next "), "\(created.1)")
        let refused = try ArrowProcess.run(["template", "create", "--name", "bad", "--image", image, "--schedule", "0 25 * * *"], environment: env)
        #expect(refused.0 != 0 && refused.2.contains("invalid_schedule"), "\(refused.2)")
        #expect(try ArrowProcess.run(["template", "list"], environment: env).1.contains("weekly"))

        let run = try ArrowProcess.run(["template", "run", id], environment: env)
        #expect(run.0 == 0 && run.1.contains("revision 1"), "\(run.1)\(run.2)")
        let task = try #require(run.1.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })

        // A builder fails it at an Ansible task.
        let me = try JSONSerialization.jsonObject(with: await HTTP.send("GET", "\(installation.base)/api/me", token: installation.token)?.2 ?? Data()) as? [String: Any]
        let org = try #require((me?["organization"] as? [String: Any])?["id"] as? String)
        let account = await HTTP.send("POST", "\(installation.base)/api/organizations/\(org)/service-accounts", token: installation.token, json: #"{"name":"tpl-builder"}"#)
        let builderToken = try #require((try JSONSerialization.jsonObject(with: account?.2 ?? Data()) as? [String: Any])?["token"] as? String)
        let claimed = await HTTP.send("POST", "\(installation.base)/api/vm-build/tasks/claim", token: builderToken,
                                      json: #"{"builder":{"name":"tpl-1","version":"1","device_types":["vm"]}}"#)
        let claim = try #require(try JSONSerialization.jsonObject(with: claimed?.2 ?? Data()) as? [String: Any])
        #expect((claim["task"] as? [String: Any])?["id"] as? String == task)
        let leaseToken = try #require((claim["lease"] as? [String: Any])?["token"] as? String)
        let lease = #""task_id":"\#(task)","attempt":1,"lease_token":"\#(leaseToken)""#
        _ = await HTTP.send("POST", "\(installation.base)/api/vm-build/task-status", token: builderToken, json: #"{\#(lease),"event":"phase","phase":"customization"}"#)
        _ = await HTTP.send("POST", "\(installation.base)/api/vm-build/task-logs", token: builderToken,
                            json: #"{\#(lease),"file":"ansible","sequence":0,"content":"TASK [harden_ssh : Disable root login] ***\nfatal: [image]: FAILED! => {}\n"}"#)
        _ = await HTTP.send("POST", "\(installation.base)/api/vm-build/task-status", token: builderToken,
                            json: #"{\#(lease),"event":"failed","error_code":"ansible_failed","message":"role failed"}"#)

        let failures = try ArrowProcess.run(["build", "failures", "--window", "1h"], environment: env)
        #expect(failures.0 == 0)
        #expect(failures.1.contains("1×\tansible_failed in customization: harden_ssh : Disable root login"), "\(failures.1)")
        #expect(failures.1.contains("ansible.log line 2") && failures.1.contains("/console/task?id=\(task)#ansible-L2"), "\(failures.1)")

        // The scheduler settles the run (every 15 s, and at start): failed.
        var runs = ""
        for _ in 0..<60 where !runs.contains("failed") {
            try await Task.sleep(for: .milliseconds(500))
            runs = try ArrowProcess.run(["template", "runs", id], environment: env).1
        }
        #expect(runs.contains("manual\tr1\tfailed\t\(task)"), "\(runs)")
        #expect(try ArrowProcess.run(["template", "delete", id], environment: env).1.contains("removed"))
        #expect(!(try ArrowProcess.run(["template", "list"], environment: env).1.contains("weekly")))
    }
}
