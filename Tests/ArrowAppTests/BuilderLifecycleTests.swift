import ArrowTesting
import Foundation
import Testing

/// A builder asked to stop: SIGTERM lets the build in progress finish and report, then the builder exits without
/// claiming more; an administrator's cancel stops the build at the next heartbeat and releases every mount and loop
/// device. Part of the builder's serialized suite.
extension BuilderEndToEndTests {
    @Test func sigtermFinishesTheCurrentBuildThenStopsClaiming() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let first = try world.trigger(#"{"software":[{"name":"curl"}],"deployment_target":"none"}"#, vmName: "drained-01")
        let second = try world.trigger(#"{"software":[{"name":"curl"}],"deployment_target":"none"}"#, vmName: "drained-02")
        let log = world.installation.dataDir + "/drain.log"
        let builder = try ArrowProcess(world.builderArguments(name: "drain", once: false), environment: try world.builderEnvironment(),
                                       stderrFile: log, stdoutToo: true)
        try await Self.waitUntilMounted(world)
        let building = try await world.task(first)["phase"] as? String == "customization" ? first : second
        let waiting = building == first ? second : first
        kill(builder.process.processIdentifier, SIGTERM)
        let exited = await Self.waitForExit(builder.process, seconds: 600)
        try #require(exited, "the builder did not exit after SIGTERM")
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(builder.process.terminationStatus == 0, "\(output.suffix(3000))")
        #expect(output.contains("SIGTERM: finishing the current build"))
        #expect(try await world.task(building)["status"] as? String == "succeeded", "the build in progress ran to its end and reported")
        #expect(try await world.task(waiting)["status"] as? String == "queued", "no new claim after SIGTERM")
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }

    @Test func anAdministratorsCancelStopsTheBuildAndReleasesEverything() async throws {
        let world = try await World.make(serverEnvironment: ["ARROW_BUILDS_HEARTBEAT_INTERVAL": "1"])
        defer { _ = try? world.server.terminate() }
        let taskID = try world.trigger(#"{"software":[{"name":"nmap"}],"deployment_target":"none"}"#, vmName: "canceled-01")
        let log = world.installation.dataDir + "/cancel.log"
        let builder = try ArrowProcess(world.builderArguments(name: "cancel"), environment: try world.builderEnvironment(), stderrFile: log, stdoutToo: true)
        try await Self.waitUntilMounted(world)
        let (status, _, err) = try ArrowProcess.run(["build", "cancel", taskID], environment: world.env)
        #expect(status == 0, "\(err)")
        let exited = await Self.waitForExit(builder.process, seconds: 120)
        try #require(exited, "the builder kept building a canceled task")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "canceled", "\(task)")
        let summary = try ArrowProcess.run(["build", "logs", taskID, "--file", "summary"], environment: world.env).1
        #expect(summary.contains("canceled by an administrator"), "\(summary.suffix(1500))")
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }

    /// Waits until a builder of this world has an image mounted (mid-customization).
    static func waitUntilMounted(_ world: World) async throws {
        let work = world.installation.dataDir + "/work/"
        for _ in 0..<2400 {
            if ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(work) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the builder never mounted the image")
        throw CancellationError()
    }

    static func waitForExit(_ process: Process, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(200)) }
        return !process.isRunning
    }
}
