import ArrowBuilder
import ArrowTesting
import Foundation
import Testing

/// The builder on the real Debian base image (scripts/base-image.sh, made once per run and passed in as
/// ARROW_TEST_BASE_IMAGE): upload → trigger → `arrow builder --once` → artifact, then the artifact opened read-only
/// and checked. Needs root and loop devices, as CI has; missing prerequisites fail the test instead of skipping it.
@Suite(.serialized) struct BuilderEndToEndTests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator@arrow.test"
    static let setupKey = "NB-E2E-PLANTED-SETUP-KEY-41d7"
    /// The NetBird PAT the fake management API accepts (planted: it must appear in no log, output or record).
    static let netbirdToken = "nbp_E2EPLANTEDPAT" + String(repeating: "7", count: 23)

    struct World {
        let installation: TestInstallation
        let server: ArrowProcess
        let image: String
        let builderToken: String
        let organization: String
        /// Serves the stand-in NetBird repository the install_vpn role installs from.
        let files: StaticFileServer
        /// The NetBird management API; a test VM reaches it as 10.0.2.2 (QEMU's user-mode network's host).
        let netbird: FakeNetBird
        /// The builder host's role variables (the local repository needs no signing key).
        var roleVariables: String { installation.dataDir + "/role-vars.yml" }
        var env: [String: String] { ["ARROW_API": installation.base, "ARROW_TOKEN": installation.token] }

        /// Starts a server, configures the organization and uploads the base image.
        static func make(serverEnvironment: [String: String] = [:]) async throws -> World {
            let base = try #require(ProcessInfo.processInfo.environment["ARROW_TEST_BASE_IMAGE"], "scripts/base-image.sh's image, in ARROW_TEST_BASE_IMAGE")
            try #require(getuid() == 0, "the builder's tests run as root (loop devices, mount, chroot)")
            let installation = try TestInstallation()
            let server = try await installation.serve(stderrFile: installation.dataDir + "/serve.log", extraEnvironment: serverEnvironment)
            let env = ["ARROW_API": installation.base, "ARROW_TOKEN": installation.token]
            let me = try JSONSerialization.jsonObject(with: await HTTP.send("GET", "\(installation.base)/api/me", token: installation.token)?.2 ?? Data()) as? [String: Any]
            let org = try #require((me?["organization"] as? [String: Any])?["id"] as? String)
            try FileManager.default.createDirectory(atPath: installation.dataDir + "/served", withIntermediateDirectories: true)
            try await LocalAptRepository.make(in: installation.dataDir + "/served", runner: SubprocessRunner())
            let files = try await StaticFileServer.start(directory: installation.dataDir + "/served")
            try "netbird_repository_trusted: true\n".write(toFile: installation.dataDir + "/role-vars.yml", atomically: true, encoding: .utf8)
            let netbird = try await FakeNetBird.start(token: netbirdToken, groups: ["builds", "lab"])
            let config = #"""
            {"vpn_config":{"management_url":"http://10.0.2.2:\#(netbird.port)","setup_key":"\#(setupKey)","package_repository":"\#(files.url)/ ./",
                           "api_url":"\#(netbird.url)","api_token":"\#(netbirdToken)","groups":["builds"]},
             "users":[{"name":"operator","ssh_authorized_keys":["\#(key)"],"sudo":true}],
             "branding":{"motd":"Welcome to the Arrow lab","issue":"Arrow lab image","login_banner":"Authorized use only"},
             "timezone":"Europe/Berlin"}
            """#
            let put = await HTTP.send("PUT", "\(installation.base)/api/organizations/\(org)/client-config", token: installation.token, json: config)
            try #require(put?.0 == 200, "\(String(decoding: put?.2 ?? Data(), as: UTF8.self))")
            let (status, uploaded, err) = try ArrowProcess.run(["image", "upload", base, "--name", "debian-base"], environment: env)
            try #require(status == 0, "\(err)")
            let image = try #require(uploaded.split(separator: "\n").last.map(String.init))
            let account = await HTTP.send("POST", "\(installation.base)/api/organizations/\(org)/service-accounts", token: installation.token,
                                          json: #"{"name":"e2e-builder"}"#)
            let token = try #require((try JSONSerialization.jsonObject(with: account?.2 ?? Data()) as? [String: Any])?["token"] as? String)
            return World(installation: installation, server: server, image: image, builderToken: token, organization: org, files: files, netbird: netbird)
        }

        func trigger(_ options: String, vmName: String) throws -> String {
            let (status, out, err) = try ArrowProcess.run(["build", "trigger", image, "--vm-name", vmName, "--options", options], environment: env)
            try #require(status == 0, "\(err)")
            return try #require(out.split(separator: "\n").last.map(String.init))
        }

        /// `arrow builder --once` as CI's workflow runs it; its output, and its exit status.
        func runBuilder(name: String = "e2e", roles: String = Repository.root + "/imaging/roles") throws -> (Int32, String) {
            let (status, out, err) = try ArrowProcess.run(builderArguments(name: name, roles: roles), environment: try builderEnvironment())
            return (status, out + err)
        }

        func builderArguments(name: String, roles: String = Repository.root + "/imaging/roles", once: Bool = true) -> [String] {
            ["builder"] + (once ? ["--once"] : []) + ["--poll", "5", "--name", name, "--work-dir", installation.dataDir + "/work",
             "--cache-dir", installation.dataDir + "/builder-cache", "--roles-dir", roles]
        }

        func builderEnvironment() throws -> [String: String] {
            ["ARROW_API": installation.base, "ARROW_TOKEN": builderToken, "ARROW_ANSIBLE_PLAYBOOK": try Self.ansiblePlaybook(),
             "ARROW_ROLE_VARS": roleVariables]
        }

        /// scripts/lib/deps.sh's ensure_ansible, passed in by scripts/test.sh.
        static func ansiblePlaybook() throws -> String {
            try #require(ProcessInfo.processInfo.environment["ARROW_ANSIBLE_PLAYBOOK"], "ansible-playbook's path, in ARROW_ANSIBLE_PLAYBOOK")
        }

        func task(_ id: String) async throws -> [String: Any] {
            let answer = await HTTP.send("GET", "\(installation.base)/api/vm-build/tasks/\(id)", token: installation.token)
            return try #require(try JSONSerialization.jsonObject(with: answer?.2 ?? Data()) as? [String: Any])
        }
    }

    @Test func aBuildCustomizesSealsAndStoresTheImage() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let options = #"{"software":[{"name":"nmap","ansible_role":"security-tools"},{"name":"curl"}],"ansible_flags":{"harden_ssh":true,"apply_branding":true,"install_vpn":true},"resource_allocation":{"disk_gb":3}}"#
        let taskID = try world.trigger(options, vmName: "lab-01")
        let (status, output) = try world.runBuilder()
        #expect(status == 0, "\(output.suffix(4000))")
        #expect(!output.contains(Self.setupKey), "the setup key reached the builder's output")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "succeeded", "\(task)")
        let artifact = try #require(task["artifact_image_id"] as? String)

        // The artifact, opened read-only.
        let path = world.installation.dataDir + "/artifact.qcow2"
        try await Self.download(artifact, world: world, to: path)
        try await ArtifactInspection.open(path) { root in
            #expect(try String(contentsOfFile: root + "/etc/hostname", encoding: .utf8) == "lab-01\n")
            var stats = statvfs()
            #expect(statvfs(root, &stats) == 0 && Int64(stats.f_blocks) * Int64(stats.f_frsize) > 2_600_000_000,
                    "the root file system grew with disk_gb 3 (the base image's disk is 2 GiB)")
            #expect(try String(contentsOfFile: root + "/etc/hosts", encoding: .utf8).contains("127.0.1.1\tlab-01"))
            let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
            #expect(passwd.contains("\noperator:"))
            #expect(try String(contentsOfFile: root + "/home/operator/.ssh/authorized_keys", encoding: .utf8) == Self.key + "\n")
            #expect(FileManager.default.fileExists(atPath: root + "/etc/sudoers.d/90-arrow-operator"))
            #expect(FileManager.default.fileExists(atPath: root + "/usr/bin/nmap"), "nmap installed by the security-tools role")
            #expect(FileManager.default.fileExists(atPath: root + "/usr/bin/curl"), "curl installed as a system package")
            let effective = try await ArtifactInspection.sshdSettings(root)
            for setting in ["permitrootlogin no", "passwordauthentication no", "kbdinteractiveauthentication no", "banner /etc/issue.net"] {
                #expect(effective.contains(setting + "\n"), "sshd -T in the artifact: \(setting)")
            }
            #expect(try String(contentsOfFile: root + "/etc/motd", encoding: .utf8) == "Welcome to the Arrow lab\n")
            #expect(try String(contentsOfFile: root + "/etc/issue.net", encoding: .utf8) == "Authorized use only\n")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/localtime").hasSuffix("Europe/Berlin"))
            let machineID = try FileManager.default.attributesOfItem(atPath: root + "/etc/machine-id")
            #expect((machineID[.size] as? NSNumber)?.intValue == 0, "machine-id empty, not deleted")
            let hostKeys = try FileManager.default.contentsOfDirectory(atPath: root + "/etc/ssh").filter { $0.hasPrefix("ssh_host_") }
            #expect(hostKeys.isEmpty, "SSH host keys left: \(hostKeys)")
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/netbird/config.json") && !FileManager.default.fileExists(atPath: root + "/var/lib/netbird"),
                    "no NetBird identity in the image (the stand-in package made one)")
            #expect(!FileManager.default.fileExists(atPath: root + "/usr/sbin/policy-rc.d"))
            let aptCaches = (try? FileManager.default.contentsOfDirectory(atPath: root + "/var/cache/apt"))?.filter { $0.hasSuffix(".bin") } ?? []
            #expect(aptCaches.isEmpty, "apt's binary caches shipped in the artifact: \(aptCaches)")
            #expect(FileManager.default.fileExists(atPath: root + "/etc/systemd/system/arrow-netbird-enroll.service"), "the first-boot unit")
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/arrow/netbird-setup-key"), "no setup key in the image")
            let everything = try Self.grep(Self.setupKey, under: root + "/etc")
            #expect(everything.isEmpty, "the setup key is in the image: \(everything)")
        }

        // The four logs, the contents and the provenance.
        for file in ["download", "ansible", "deploy", "summary"] {
            let log = try ArrowProcess.run(["build", "logs", taskID, "--file", file], environment: world.env)
            #expect(log.0 == 0 && !log.1.isEmpty, "\(file).log: \(log.2)")
            #expect(!log.1.contains(Self.setupKey))
        }
        let ansible = try ArrowProcess.run(["build", "logs", taskID, "--file", "ansible"], environment: world.env).1
        #expect(ansible.contains("TASK [harden_ssh : sshd accepts the configuration]"), "every Ansible task's result is in ansible.log")
        let contents = await HTTP.send("GET", "\(world.installation.base)/api/vm_images/\(artifact)/contents", token: world.installation.token)
        let provenance = try #require(try JSONSerialization.jsonObject(with: contents?.2 ?? Data()) as? [String: Any])
        let added = (provenance["added"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(added.contains("nmap") && added.contains("curl"), "added: \(added)")
        #expect(provenance["base_image_id"] as? String == world.image && (provenance["configuration_hash"] as? String)?.count == 64)
        // The size report: the artifact, and what each step added — curl (a system package) by its installed size, each
        // role by the growth of the file system across it (security-tools installs nmap: megabytes).
        let size = try #require(provenance["size"] as? [String: Any], "no size report in \(provenance.keys.sorted())")
        #expect(((size["artifact_bytes"] as? NSNumber)?.int64Value ?? 0) > 50 << 20)
        let items = size["items"] as? [[String: Any]] ?? []
        func grew(_ kind: String, _ name: String) -> Int64? {
            (items.first { $0["kind"] as? String == kind && $0["name"] as? String == name }?["bytes"] as? NSNumber)?.int64Value
        }
        #expect((grew("package", "curl") ?? 0) > 100 << 10, "\(items)")
        #expect((grew("role", "security-tools") ?? 0) > 1 << 20, "\(items)")
        for role in ["harden_ssh", "apply_branding", "install_vpn"] { #expect(grew("role", role) != nil, "no size for role \(role): \(items)") }
        #expect(grew("base_configuration", "host name, network, users") != nil)

        // Deployment on the local QEMU target: the artifact booted and passed every check, which are kept with it.
        let verification = try #require(provenance["verification"] as? [String: Any], "no verification in \(provenance.keys.sorted())")
        let checks = (verification["checks"] as? [[String: Any]] ?? [])
        #expect(verification["status"] as? String == "passed", "\(checks.filter { $0["passed"] as? Bool != true })")
        let names = checks.compactMap { $0["name"] as? String }
        for expected in ["systemd reached running", "host name is lab-01", "nmap --version", "package curl installed", "sshd is hardened",
                         "NetBird enrolled at first boot", "the setup key was consumed"] {
            #expect(names.contains(expected), "check \(expected) ran: \(names)")
        }
        // Inside the VM, the first-boot unit ran `netbird up` with the delivered key (the stand-in records its
        // arguments, the key only as a hash) and removed the key file.
        let enrolled = checks.first { $0["name"] as? String == "NetBird enrolled at first boot" }?["output"] as? String ?? ""
        let peer = "lab-01-" + taskID.prefix(8).lowercased()
        #expect(enrolled.contains("up --setup-key-file /etc/arrow/netbird-setup-key --management-url http://10.0.2.2:\(world.netbird.port) --hostname \(peer)"),
                "\(enrolled)")
        // The management API: one one-off key for this deployment, with the group's id; the peer it registered was
        // found, then deleted (the test VM is gone) and the key revoked; every request as NetBird publishes them.
        let keys = world.netbird.keys
        #expect(keys.count == 1 && keys.first?.type == "one-off" && keys.first?.groups == [world.netbird.groupID("builds") ?? "?"] && keys.first?.revoked == true,
                "\(keys.map { ($0.type, $0.groups, $0.revoked) })")
        #expect(enrolled.contains("key-sha256 \(Self.sha256Prefix((keys.first?.key ?? "") + "\n"))"), "the one-off key reached netbird up: \(enrolled)")
        #expect(world.netbird.peers.isEmpty && world.netbird.requests.contains("GET /api/peers?name=\(peer)"), "\(world.netbird.requests)")
        #expect(world.netbird.violations.isEmpty, "\(world.netbird.violations)")
        #expect(names.contains("NetBird peer registered"))
        let deployLog = try ArrowProcess.run(["build", "logs", taskID, "--file", "deploy"], environment: world.env).1
        for secret in [Self.netbirdToken, keys.first?.key ?? "-"] {
            #expect(!output.contains(secret) && !deployLog.contains(secret), "a NetBird secret reached the builder's output or deploy.log")
        }
        #expect(!(contents.map { String(decoding: $0.2, as: UTF8.self) } ?? "").contains(Self.setupKey), "the setup key is in the image's record")
        let show = try ArrowProcess.run(["image", "show", artifact], environment: world.env)
        #expect(show.1.contains("verification: passed"), "\(show.1.suffix(1500))")
        #expect(show.1.contains("size: artifact") && show.1.contains("\trole\tsecurity-tools"), "\(show.1.suffix(1500))")
        // Printed for people reading the run: what each step added.
        print(show.1.split(separator: "\n").drop { !$0.hasPrefix("size:") }.prefix { !$0.hasPrefix("verification:") }.joined(separator: "\n"))
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
        #expect(!Self.qemuRunning(under: world.installation.dataDir), "the test VM was left running")
    }

    @Test func aFailingPlaybookEndsAsAnsibleFailedNamingTheTask() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let roles = world.installation.dataDir + "/roles"
        try FileManager.default.createDirectory(atPath: roles + "/failing-role/tasks", withIntermediateDirectories: true)
        try """
        ---
        - name: Look around first
          ansible.builtin.command: "true"
          changed_when: false
        - name: Refuse on purpose
          ansible.builtin.fail:
            msg: a planted failure
        """.write(toFile: roles + "/failing-role/tasks/main.yml", atomically: true, encoding: .utf8)
        let taskID = try world.trigger(#"{"software":[{"name":"anything","ansible_role":"failing-role"}],"deployment_target":"none"}"#, vmName: "doomed")
        let (status, output) = try world.runBuilder(roles: roles)
        #expect(status == 1, "\(output.suffix(3000))")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "failed" && task["error_code"] as? String == "ansible_failed", "\(task)")
        #expect((task["error_message"] as? String)?.contains("'failing-role : Refuse on purpose'") == true, "\(task["error_message"] ?? "")")
        let ansible = try ArrowProcess.run(["build", "logs", taskID, "--file", "ansible"], environment: world.env).1
        #expect(ansible.contains("TASK [failing-role : Refuse on purpose]") && ansible.contains("a planted failure"), "\(ansible.suffix(2000))")
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }

    @Test func aBuilderKilledMidCustomizationIsReplacedAndLeavesNothing() async throws {
        // Short leases, so the killed builder's runs out within seconds.
        let world = try await World.make(serverEnvironment: [
            "ARROW_BUILDS_LEASE_SECONDS": "4", "ARROW_BUILDS_HEARTBEAT_INTERVAL": "1", "ARROW_BUILDS_SWEEP_INTERVAL": "1",
        ])
        defer { _ = try? world.server.terminate() }
        let taskID = try world.trigger(#"{"software":[{"name":"nmap"}],"deployment_target":"none"}"#, vmName: "phoenix")
        let first = try ArrowProcess(world.builderArguments(name: "first"), environment: try world.builderEnvironment(),
                                     stderrFile: world.installation.dataDir + "/first.log", stdoutToo: true)
        var phase: String?
        for _ in 0..<600 where phase != "customization" {
            try await Task.sleep(for: .milliseconds(100))
            phase = try await world.task(taskID)["phase"] as? String
        }
        try #require(phase == "customization", "the first builder never reached customization")
        // Mid-customization: killed once the image is mounted (packages on their way), whatever the machine's load.
        let work = world.installation.dataDir + "/work/"
        var mounted = false
        for _ in 0..<1200 where !mounted {
            try await Task.sleep(for: .milliseconds(50))
            mounted = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(work)
        }
        try #require(mounted, "the first builder never mounted the image")
        try await Task.sleep(for: .milliseconds(300))
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        var requeued = false
        for _ in 0..<300 where !requeued {
            try await Task.sleep(for: .milliseconds(100))
            let task = try await world.task(taskID)
            requeued = task["status"] as? String == "queued"
        }
        try #require(requeued, "the killed builder's lease never expired")
        let (status, output) = try world.runBuilder(name: "second")
        #expect(status == 0, "\(output.suffix(3000))")
        #expect(output.contains("left over from a builder that stopped mid-build"), "the second builder cleared the first's mounts")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "succeeded" && task["attempt"] as? Int == 2, "\(task)")
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }

    static func sha256Prefix(_ text: String) -> String {
        (try? ArtifactInspection.run("sh", ["-c", "printf %s \"$1\" | sha256sum | cut -c1-16", "sha", text]))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    static func download(_ image: String, world: World, to path: String) async throws {
        let (status, _, err) = try ArrowProcess.run(["image", "download", image, "--output", path], environment: world.env)
        try #require(status == 0, "\(err)")
    }

    /// Files under `directory` that contain `text`.
    static func grep(_ text: String, under directory: String) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let name = enumerator?.nextObject() as? String {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path), data.count < 4 << 20 else { continue }
            if data.range(of: Data(text.utf8)) != nil { found.append(path) }
        }
        return found
    }
}

/// The repository the tests run in (for the roles).
enum Repository {
    static var root: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}

/// Opens an artifact read-only: converted to raw, attached with `losetup --read-only`, its root mounted read-only.
enum ArtifactInspection {
    static func open(_ qcow2: String, _ body: (String) async throws -> Void) async throws {
        let raw = qcow2 + ".raw", mountPoint = qcow2 + ".mnt"
        try run("qemu-img", ["convert", "-O", "raw", qcow2, raw])
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let loop = try run("losetup", ["--find", "--show", "--read-only", "--partscan", raw]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? run("losetup", ["--detach", loop]) }
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        var partition = loop + "p1"
        for attempt in 0..<50 where !FileManager.default.fileExists(atPath: partition) {
            if attempt == 10 { _ = try? run("partx", ["-a", loop]) }
            try await Task.sleep(for: .milliseconds(100))
        }
        if !FileManager.default.fileExists(atPath: partition) { partition = loop }
        try run("mount", ["-o", "ro,noload", partition, mountPoint])
        defer { _ = try? run("umount", [mountPoint]) }
        try await body(mountPoint)
    }

    /// `sshd -t` (it must pass) then `sshd -T` (the effective settings) inside the read-only artifact. The seal
    /// removed the host keys: a throwaway one is made on a tmpfs over /run, with /dev bound for sshd.
    static func sshdSettings(_ root: String) async throws -> String {
        try run("mount", ["-t", "tmpfs", "tmpfs", root + "/run"])
        defer { _ = try? run("umount", [root + "/run"]) }
        try run("mount", ["--bind", "/dev", root + "/dev"])
        defer { _ = try? run("umount", [root + "/dev"]) }
        try FileManager.default.createDirectory(atPath: root + "/run/sshd", withIntermediateDirectories: true)
        try run("chroot", [root, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/run/host-key"])
        try run("chroot", [root, "/usr/sbin/sshd", "-t", "-h", "/run/host-key"])
        return try run("chroot", [root, "/usr/sbin/sshd", "-T", "-h", "/run/host-key"])
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ArrowProcessError.failed("\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

enum ArrowProcessError: Error { case failed(String) }

/// What the builder must never leave behind: a loop device or a mount of its work directories.
enum Mounts {
    static func clean() -> Bool { describe().isEmpty }

    static func describe() -> String {
        let loops = (try? ArtifactInspection.run("losetup", ["-a"])) ?? ""
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let ours = mounts.split(separator: "\n").filter { $0.contains("/work/") || $0.contains(".mnt") || $0.contains("arrow-builder") }
        return (loops.split(separator: "\n").map(String.init) + ours.map(String.init)).joined(separator: "\n")
    }
}
