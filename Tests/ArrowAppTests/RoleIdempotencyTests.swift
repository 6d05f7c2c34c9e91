@testable import ArrowBuilder
import ArrowClient
import ArrowProtocol
import ArrowTesting
import Foundation
import Testing

/// Every role in the repository on the real base image, the plays run twice through the chroot connection: the first
/// run changes the image, the second changes nothing. `install_vpn` installs a stand-in NetBird package from a local
/// repository served on loopback, `web-testing` downloads a tool from there (checked by checksum), both configured
/// through the builder's role variables file. Part of the builder's serialized suite: two Ansible runs at once on one
/// host were seen to leave a role's copied file empty (see `BuilderCommand`'s concurrency limit).
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
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/apt/partial", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let runner = SubprocessRunner()

        // What the roles fetch from elsewhere: the NetBird repository and a tool the distribution lacks.
        let tool = Data("#!/bin/sh\necho burpsuite stand-in\n".utf8)
        try FileManager.default.createDirectory(atPath: work + "/served", withIntermediateDirectories: true)
        try tool.write(to: URL(fileURLWithPath: work + "/served/burpsuite.sh"))
        try await LocalAptRepository.make(in: work + "/served", runner: runner)
        let files = try await StaticFileServer.start(directory: work + "/served")
        defer { Task { await files.stop() } }
        try """
        netbird_repository_trusted: true
        web_testing_downloads:
          - {name: burpsuite, url: "\(files.url)/burpsuite.sh", checksum: "sha256:\(ImageCache.sha256(of: work + "/served/burpsuite.sh"))"}
        """.write(toFile: work + "/role-vars.yml", atomically: true, encoding: .utf8)

        let lines = Lines()
        try await DiskImage.convert(base, format: "qcow2", to: work + "/disk.raw", diskGB: nil, runner: runner, log: { _ in })
        let disk = DiskImage(raw: work + "/disk.raw", mountPoint: work + "/mnt", runner: runner, log: { _ in })
        do {
            try await disk.open()
            let root = ImageRoot(path: work + "/mnt", runner: runner, helper: helper, binds: [(work + "/apt", "/var/cache/apt/archives")],
                                 log: { await lines.add($0) })
            let client = ClientConfigDocument(vpnConfig: .init(packageRepository: "\(files.url)/ ./"))
            let branding = try Branding.stage(.init(motd: "Welcome to the lab", loginBanner: "Authorized use only"), into: work + "/branding")
            let plays = AnsiblePlan.plays(
                software: [SoftwareSpec(name: "nmap", ansibleRole: "security-tools"), SoftwareSpec(name: "curl", ansibleRole: "web-testing"),
                           SoftwareSpec(name: "burpsuite", version: "2023.10", ansibleRole: "web-testing")],
                flags: ["harden_ssh": true, "install_monitoring": true, "install_vpn": true, "apply_branding": true], client: client, branding: branding)
            #expect(plays.map(\.role) == ["security-tools", "web-testing", "harden_ssh", "install_monitoring", "install_vpn", "apply_branding"])
            let ansible = Ansible(root: root, playbook: playbook, rolesDirectory: Repository.root + "/imaging/roles", workDirectory: work,
                                  variablesFile: work + "/role-vars.yml")
            try await Packages(root: root).withDaemonsStopped { try await ansible.run(plays) }
            let first = Self.recap(await lines.all)
            await lines.clear()
            try await Packages(root: root).withDaemonsStopped { try await ansible.run(plays) }
            let secondLines = await lines.all
            let second = Self.recap(secondLines)
            #expect((first ?? 0) > 0, "the first run changes the image")
            #expect(second == 0, "the second run changes nothing: \(secondLines.suffix(40).joined(separator: "\n"))")

            let image = work + "/mnt"
            for binary in ["/usr/bin/nmap", "/usr/bin/curl", "/usr/bin/prometheus-node-exporter", "/usr/bin/netbird"] {
                #expect(FileManager.default.fileExists(atPath: image + binary), "\(binary) installed")
            }
            #expect(FileManager.default.contents(atPath: image + "/opt/burpsuite") == tool, "the downloaded tool, checked by checksum")
            #expect(!FileManager.default.fileExists(atPath: image + "/etc/netbird/config.json") && !FileManager.default.fileExists(atPath: image + "/var/lib/netbird"),
                    "no NetBird identity left in the image (the stand-in's postinst made one)")
            #expect((try? FileManager.default.destinationOfSymbolicLink(
                atPath: image + "/etc/systemd/system/multi-user.target.wants/prometheus-node-exporter.service")) != nil, "the node exporter starts at boot")
            #expect(try String(contentsOfFile: image + "/etc/motd", encoding: .utf8) == "Welcome to the lab\n")
            #expect(try String(contentsOfFile: image + "/etc/ssh/sshd_config.d/80-arrow-banner.conf", encoding: .utf8) == "Banner /etc/issue.net\n")
            #expect(try String(contentsOfFile: image + "/usr/share/arrow/branding/branding.env", encoding: .utf8).contains("ORGANIZATION=''"))
            // Each command gets a fresh /run: sshd wants its privilege separation directory there.
            let effective = try await root.output(["/bin/sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -T"])
            for setting in ["permitrootlogin no", "passwordauthentication no", "kbdinteractiveauthentication no", "banner /etc/issue.net"] {
                #expect(effective.contains(setting + "\n"), "sshd -T: \(setting)")
            }
            await StrayProcesses.kill(under: image, log: { _ in })
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
