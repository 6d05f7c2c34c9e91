@testable import ArrowBuilder
import ArrowClient
import ArrowProtocol
import Foundation
import Testing

/// The repository's roles on the real base image, each play run twice through the chroot connection: the first run
/// changes the image, the second changes nothing. Part of the builder's serialized suite: two Ansible runs at once on
/// one host were seen to leave a role's copied file empty (see `BuilderCommand`'s concurrency limit).
extension BuilderEndToEndTests {
    actor Lines {
        var all: [String] = []
        func add(_ line: String) { all.append(line) }
        func clear() { all = [] }
    }

    @Test func everyRoleRunsTwiceAndTheSecondRunChangesNothing() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = try #require(environment["ARROW_TEST_BASE_IMAGE"], "scripts/base-image.sh's image, in ARROW_TEST_BASE_IMAGE")
        let playbook = try #require(environment["ARROW_ANSIBLE_PLAYBOOK"], "ansible-playbook's path, in ARROW_ANSIBLE_PLAYBOOK")
        let helper = try #require(environment["ARROW_BIN"], "the arrow binary, in ARROW_BIN")
        try #require(getuid() == 0, "role tests run as root (loop devices, mount, chroot)")
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { repository.deleteLastPathComponent() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/apt/partial", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        let lines = Lines()
        let runner = SubprocessRunner()
        try await DiskImage.convert(base, format: "qcow2", to: work + "/disk.raw", diskGB: nil, runner: runner, log: { _ in })
        let disk = DiskImage(raw: work + "/disk.raw", mountPoint: work + "/mnt", runner: runner, log: { _ in })
        do {
            try await disk.open()
            let root = ImageRoot(path: work + "/mnt", runner: runner, helper: helper, binds: [(work + "/apt", "/var/cache/apt/archives")],
                                 log: { await lines.add($0) })
            let plays = AnsiblePlan.plays(software: [SoftwareSpec(name: "nmap", ansibleRole: "security-tools")],
                                          flags: ["harden_ssh": true, "install_monitoring": true], client: ClientConfigDocument())
            #expect(plays.map(\.role) == ["security-tools", "harden_ssh", "install_monitoring"])
            let ansible = Ansible(root: root, playbook: playbook, rolesDirectory: repository.path + "/imaging/roles", workDirectory: work)
            try await Packages(root: root).withDaemonsStopped { try await ansible.run(plays) }
            let first = Self.recap(await lines.all)
            await lines.clear()
            try await Packages(root: root).withDaemonsStopped { try await ansible.run(plays) }
            let secondLines = await lines.all
            let second = Self.recap(secondLines)
            #expect((first ?? 0) > 0, "the first run changes the image")
            #expect(second == 0, "the second run changes nothing: \(secondLines.suffix(40).joined(separator: "\n"))")
            await StrayProcesses.kill(under: work + "/mnt", log: { _ in })
            await disk.close()
        } catch {
            await disk.close()
            throw error
        }
        let loops = try await runner.output(Command("losetup", ["--list", "--noheadings", "--output", "BACK-FILE"]))
        #expect(!loops.contains(work), "a loop device was left attached")
    }

    /// `changed=N` from the play recap.
    static func recap(_ lines: [String]) -> Int? {
        guard let line = lines.last(where: { $0.hasPrefix("image") && $0.contains("changed=") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("changed=") }) else { return nil }
        return Int(field.dropFirst("changed=".count))
    }
}
