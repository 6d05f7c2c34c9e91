import ArrowTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` after triggers were committed and before GitHub got them: the outbox survives, and after a restart
/// each trigger is delivered exactly once.
@Suite(.serialized) struct DispatchCrashTests {
    @Test(arguments: TestBackend.allCases)
    func triggersSurviveAKilledServerAndAreDeliveredOnce(_ backend: TestBackend) async throws {
        let environment = backend == .postgres ? ["ARROW_DATABASE_URL": try await TestPostgres.createDatabase()] : [:]
        let installation = try TestInstallation(environment: environment)
        let githubPort = HTTP.freePort()
        let secret = "ghp_crash_\(UUID().uuidString.prefix(8))"
        let serveEnvironment = [
            "GITHUB_VM_IMAGING_WEBHOOK_URL": "http://127.0.0.1:\(githubPort)/repos/arrow-org/imaging/dispatches",
            "GITHUB_VM_IMAGING_WEBHOOK_SECRET": secret,
        ]
        let log = installation.dataDir + "/serve.log"
        let server = try await installation.serve(stderrFile: log, extraEnvironment: serveEnvironment)
        let file = try installation.sparseFile("base.raw", size: 2 << 20)
        let (_, uploaded, _) = try ArrowProcess.run(
            ["image", "upload", file, "--name", "base", "--api", installation.base, "--token", installation.token, "--json"])
        let image = try #require((try? JSONSerialization.jsonObject(with: Data(uploaded.utf8)) as? [String: Any])?["id"] as? String, "\(uploaded)")
        let me = try #require(try JSONSerialization.jsonObject(with: await HTTP.send("GET", "\(installation.base)/api/me", token: installation.token)?.2 ?? Data()) as? [String: Any])
        let organization = try #require((me["organization"] as? [String: Any])?["id"] as? String ?? me["organization_id"] as? String, "\(me)")
        for id in ["dr-k1", "dr-k2"] {
            let body = #"{"request_id":"\#(id)","device_type":"vm","images":[{"id":"\#(image)","name":"base"}],"organization":"\#(organization)","client":"acme","timestamp":"2026-11-30T10:30:00Z"}"#
            let answer = await HTTP.send("POST", "\(installation.base)/api/vm-imaging/trigger", token: installation.token, json: body)
            #expect(answer?.0 == 201, "\(String(decoding: answer?.2 ?? Data(), as: UTF8.self))")
        }
        // GitHub is down: the first attempts fail. Wait until one is recorded, then kill the server.
        var attempted = false
        for _ in 0..<100 where !attempted {
            let list = await HTTP.send("GET", "\(installation.base)/api/vm-imaging/dispatches", token: installation.token)
            attempted = String(decoding: list?.2 ?? Data(), as: UTF8.self).contains("\"number\":1,")
            if !attempted { try await Task.sleep(for: .milliseconds(100)) }
        }
        let listed = await HTTP.send("GET", "\(installation.base)/api/vm-imaging/dispatches", token: installation.token)
        #expect(attempted, "the dispatcher tried while GitHub was down: \(String(decoding: listed?.2 ?? Data(), as: UTF8.self))")
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()

        let github = try await FakeGitHub.start(token: secret, port: githubPort)
        let restarted = try await installation.serve(stderrFile: log + ".2", extraEnvironment: serveEnvironment)
        // A message whose attempt was in flight when the server died keeps its 60 s lock (no dispatcher can tell a
        // dead one from a slow one): it is delayed by up to a minute, never lost and never sent twice.
        #expect(await github.waitFor(2, seconds: 90))
        try await Task.sleep(for: .seconds(3))
        let bodies = github.deliveries.map(\.body)
        #expect(bodies.count == 2, "\(bodies)")
        for id in ["dr-k1", "dr-k2"] { #expect(bodies.filter { $0.contains(#""request_id":"\#(id)""#) }.count == 1) }
        #expect(github.violations.isEmpty, "\(github.violations)")
        _ = try restarted.terminate()
        await github.stop()
        let logs = (try String(contentsOfFile: log, encoding: .utf8)) + (try String(contentsOfFile: log + ".2", encoding: .utf8))
        #expect(!logs.contains(secret), "the webhook secret reached the log")
    }
}
