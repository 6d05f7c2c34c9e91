@testable import ArrowBuilder
import ArrowClient
import ArrowProtocol
import Foundation
import Testing

/// Two builds' Ansible runs at once on one host, each on its own image: every copied file reaches both disks whole
/// (read back after the image was closed and opened again). This failed now and then — a role's copied file empty in
/// one image — while chroot namespaces took private copies of the host's mounts: a namespace made for one build held
/// the other build's file system after its unmount, so its last writes had not reached the disk file when it was
/// read again.
extension BuilderEndToEndTests {
    /// The cause, made certain instead of left to timing: a chroot namespace of image B is alive while image A is
    /// written and closed. A's close must release its loop device, and A opened again must show the write.
    @Test func anotherImagesChrootNamespaceDoesNotHoldAClosedImage() async throws {
        let helper = try #require(ProcessInfo.processInfo.environment["ARROW_BIN"])
        try #require(getuid() == 0)
        let runner = SubprocessRunner()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("namespaces-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        for directory in ["etc", "dev", "proc", "sys", "run"] {
            try FileManager.default.createDirectory(atPath: work + "/tree/" + directory, withIntermediateDirectories: true)
        }
        try "ID=debian\n".write(toFile: work + "/tree/etc/os-release", atomically: true, encoding: .utf8)
        for name in ["a", "b"] {
            try await runner.output(Command("truncate", ["-s", "32M", work + "/\(name).raw"]))
            try await runner.output(Command("mkfs.ext4", ["-q", "-d", work + "/tree", work + "/\(name).raw"]))
        }
        let a = DiskImage(raw: work + "/a.raw", mountPoint: work + "/a", runner: runner, log: { _ in })
        let b = DiskImage(raw: work + "/b.raw", mountPoint: work + "/b", runner: runner, log: { _ in })
        try await a.open()
        try await b.open()
        let holder = Task {
            try await runner.run(Command(helper, ["internal-chroot", "--root", work + "/b", "--no-chroot", "--", "sleep", "4"]))
        }
        try await Task.sleep(for: .seconds(1))
        try "written before the close\n".write(toFile: work + "/a/etc/written", atomically: false, encoding: .utf8)
        let loop = try #require(await a.loop)
        #expect(await a.close(), "closed cleanly")
        #expect(!FileManager.default.fileExists(atPath: "/sys/block/\((loop as NSString).lastPathComponent)/loop/backing_file"),
                "\(loop) still attached: the other namespace holds A's file system")
        let reopened = DiskImage(raw: work + "/a.raw", mountPoint: work + "/a", runner: runner, log: { _ in })
        try await reopened.open()
        let read = try? String(contentsOfFile: work + "/a/etc/written", encoding: .utf8)
        await reopened.close()
        #expect(read == "written before the close\n")
        let held = try await holder.value
        #expect(held.succeeded, "\(held)")
        #expect(await b.close())
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }

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
