@testable import ArrowBuilder
import ArrowClient
import ArrowProtocol
import Foundation
import Testing

/// Two builds' Ansible runs at once on one host, each on its own image: every copied file reaches both disks whole
/// (read back after the image was closed and opened again). This once failed — a role's copied file empty in one
/// image — while the builder still unmounted lazily when a file system stayed busy.
extension BuilderEndToEndTests {
    @Test func twoAnsibleRunsAtOnceOnOneHostBothCopyWholeFiles() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = try #require(environment["ARROW_TEST_BASE_IMAGE"])
        let playbook = try #require(environment["ARROW_ANSIBLE_PLAYBOOK"])
        let helper = try #require(environment["ARROW_BIN"])
        try #require(getuid() == 0)
        let runner = SubprocessRunner()
        let expected = try String(contentsOfFile: Repository.root + "/imaging/roles/harden_ssh/files/10-arrow-hardening.conf", encoding: .utf8)
        let results = try await withThrowingTaskGroup(of: (String, [String]).self) { group in
            for name in ["one", "two"] {
                group.addTask {
                    let work = FileManager.default.temporaryDirectory.appendingPathComponent("concurrent-\(name)-\(UUID().uuidString)").path
                    try FileManager.default.createDirectory(atPath: work + "/apt/partial", withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(atPath: work) }
                    try await DiskImage.convert(base, format: "qcow2", to: work + "/disk.raw", diskGB: nil, runner: runner, log: { _ in })
                    let disk = DiskImage(raw: work + "/disk.raw", mountPoint: work + "/mnt", runner: runner, log: { _ in })
                    let lines = Lines()
                    do {
                        try await disk.open()
                        let root = ImageRoot(path: work + "/mnt", runner: runner, helper: helper, binds: [(work + "/apt", "/var/cache/apt/archives")],
                                             log: { await lines.add($0) })
                        let plays = AnsiblePlan.plays(software: [], flags: ["harden_ssh": true], client: ClientConfigDocument())
                        let ansible = Ansible(root: root, playbook: playbook, rolesDirectory: Repository.root + "/imaging/roles", workDirectory: work)
                        try await Packages(root: root).withDaemonsStopped { try await ansible.run(plays) }
                        await StrayProcesses.kill(under: work + "/mnt", log: { _ in })
                        #expect(await disk.close(), "unmounted cleanly")
                        // What reached the disk: the image opened again after it was closed.
                        let reopened = DiskImage(raw: work + "/disk.raw", mountPoint: work + "/mnt", runner: runner, log: { _ in })
                        try await reopened.open()
                        let copied = (try? String(contentsOfFile: work + "/mnt/etc/ssh/sshd_config.d/10-arrow-hardening.conf", encoding: .utf8)) ?? "(missing)"
                        await reopened.close()
                        return (copied, await lines.all)
                    } catch {
                        await disk.close()
                        throw error
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (copied, lines) in results {
            #expect(copied == expected, "\(copied.count) bytes copied: \(lines.suffix(30).joined(separator: "\n"))")
        }
    }

    /// `arrow builder --concurrency 2`: two builds at once in one process (each slot with its own apt archive
    /// directory), both succeed, and both artifacts carry the role's file whole.
    @Test func aBuilderRunsTwoBuildsAtOnce() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let options = #"{"software":[{"name":"curl"}],"ansible_flags":{"harden_ssh":true},"deployment_target":"none"}"#
        let tasks = [try world.trigger(options, vmName: "twin-01"), try world.trigger(options, vmName: "twin-02")]
        let (status, out, err) = try ArrowProcess.run(world.builderArguments(name: "twins") + ["--concurrency", "2"], environment: try world.builderEnvironment())
        #expect(status == 0, "\((out + err).suffix(3000))")
        let expected = try String(contentsOfFile: Repository.root + "/imaging/roles/harden_ssh/files/10-arrow-hardening.conf", encoding: .utf8)
        var started: [Date] = [], finished: [Date] = []
        for (index, id) in tasks.enumerated() {
            let task = try await world.task(id)
            #expect(task["status"] as? String == "succeeded", "\(task)")
            let formatter = ISO8601DateFormatter()
            if let at = (task["started_at"] as? String).flatMap(formatter.date(from:)) { started.append(at) }
            if let at = (task["finished_at"] as? String).flatMap(formatter.date(from:)) { finished.append(at) }
            let artifact = try #require(task["artifact_image_id"] as? String)
            let path = world.installation.dataDir + "/twin-\(index).qcow2"
            try await Self.download(artifact, world: world, to: path)
            try await ArtifactInspection.open(path) { (root: String) async throws in
                let copied = try String(contentsOfFile: root + "/etc/ssh/sshd_config.d/10-arrow-hardening.conf", encoding: .utf8)
                #expect(copied == expected)
                #expect(FileManager.default.fileExists(atPath: root + "/usr/bin/curl"))
            }
        }
        #expect(started.count == 2 && finished.count == 2 && started.max()! < finished.min()!, "the two builds overlapped: \(started) \(finished)")
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }
}
