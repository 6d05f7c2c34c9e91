import ArrowProtocol
import Foundation

/// "Test before production": boots an image with QEMU on this host and runs its checks inside, over SSH.
///
/// The image itself is never written: the VM runs on a throwaway qcow2 overlay. A cloud-init NoCloud seed gives a
/// one-time user `arrow-verify` a one-time SSH key (made here, deleted after); user-mode networking forwards SSH to a
/// loopback port. KVM is tried when /dev/kvm opens, and on any KVM error the boot starts again under TCG (on
/// machines where KVM is present but broken, as imaging-engine.md §8 describes). Everything it made is removed on
/// every path; the VM is powered off, or killed with its process group.
public struct BootTest: Sendable {
    public struct Settings: Sendable {
        public var memoryMiB = 1024
        public var cpus = 2
        /// From starting the VM to SSH answering.
        public var bootTimeout: Duration = .seconds(600)
        /// `kvm`, `tcg`, or nil to try KVM first where /dev/kvm opens.
        public var accelerator: String?
        public var checkTimeout: Duration = .seconds(120)

        public init() {}
    }

    let runner: any CommandRunner
    /// Scratch directory (created, then removed).
    let work: String
    let settings: Settings
    let log: @Sendable (String) async -> Void

    public init(runner: any CommandRunner, work: String, settings: Settings = Settings(), log: @escaping @Sendable (String) async -> Void) {
        self.runner = runner
        self.work = work
        self.settings = settings
        self.log = log
    }

    public static let user = "arrow-verify"

    /// `files`: written by cloud-init at first boot (a NetBird setup key, say); they live only in the seed, which is
    /// removed with everything else.
    public func run(image: String, checks: [VerificationCheck], files: [NoCloudSeed.File] = []) async throws -> ImageVerification {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let absolute = image.hasPrefix("/") ? image : FileManager.default.currentDirectoryPath + "/" + image
        try await tool(Command("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", absolute, "--", work + "/overlay.qcow2"]))
        try await tool(Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", Self.user, "-f", work + "/key"]))
        let publicKey = try String(contentsOfFile: work + "/key.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try await NoCloudSeed(userData: NoCloudSeed.verificationUser(publicKey: publicKey, files: files), instanceID: "arrow-verify-\(UUID().uuidString)")
            .write(to: work + "/seed.iso", runner: runner)

        let accelerators = settings.accelerator.map { [$0] } ?? (Self.kvmOpens() ? ["kvm", "tcg"] : ["tcg"])
        for (index, accelerator) in accelerators.enumerated() {
            let isLast = index == accelerators.count - 1
            if let result = try await boot(accelerator: accelerator, checks: checks, fallBack: !isLast) { return result }
            await log("KVM failed on this host; booting again under TCG")
        }
        throw BuildFailure(.bootTimeout, "the image did not boot", log: "deploy")
    }

    /// One boot; nil when KVM failed and another accelerator should be tried.
    func boot(accelerator: String, checks: [VerificationCheck], fallBack: Bool) async throws -> ImageVerification? {
        let port = try FreePort.loopback()
        let console = work + "/console-\(accelerator).log"
        let qemu = Command("qemu-system-x86_64", QEMUArguments.make(
            accelerator: accelerator, memoryMiB: settings.memoryMiB, cpus: settings.cpus, disk: work + "/overlay.qcow2",
            seed: work + "/seed.iso", sshPort: port, console: console, pidFile: work + "/qemu.pid"))
        await log("booting with qemu-system-x86_64 (\(accelerator), \(settings.cpus) vCPU, \(settings.memoryMiB) MiB), SSH on 127.0.0.1:\(port)")
        let state = VMState()
        let started = ContinuousClock.now
        let vm = Task { [runner, log] in
            let result = try? await runner.run(qemu) { line in
                if line.text.contains("KVM internal error") || line.text.contains("failed to set MSR") { await state.kvmFailed() }
                await log("qemu: \(line.text)")
            }
            await state.ended(result)
        }
        defer { vm.cancel() }
        let ssh = SSHSession(runner: runner, port: port, key: work + "/key", user: Self.user)

        // Up: SSH answers (cloud-init made the user), or the VM ended, or KVM failed, or time ran out.
        var up = false
        while !up {
            if await state.kvmFailure {
                if fallBack { return nil }
                throw BuildFailure(.deployFailed, "KVM failed on this host (see deploy.log for QEMU's report); try TCG", log: "deploy")
            }
            if ContinuousClock.now - started > settings.bootTimeout {
                await log("console (last lines):\n" + Self.tail(of: console))
                throw BuildFailure(.bootTimeout, "SSH did not answer within \(settings.bootTimeout) of starting the VM (\(accelerator))", log: "deploy")
            }
            if let result = await state.result {
                if accelerator == "kvm", fallBack { return nil }
                await log("console (last lines):\n" + Self.tail(of: console))
                throw BuildFailure(.bootTimeout, "the VM stopped before SSH answered (qemu \(result.map { "exited \($0.exitCode ?? -1)" } ?? "failed"))", log: "deploy")
            }
            up = await ssh.answers()
            if !up { try await Task.sleep(for: .seconds(2)) }
        }
        let bootSeconds = (ContinuousClock.now - started).seconds
        await log("SSH answered after \(String(format: "%.1f", bootSeconds)) s")

        var results: [ImageVerification.Check] = []
        for check in checks {
            let (code, output) = await ssh.run(["sudo", "-n"] + check.command, timeout: settings.checkTimeout)
            let passed = check.passes(exitCode: code, output: output)
            results.append(ImageVerification.Check(name: check.name, passed: passed, output: String(output.suffix(2000))))
            await log("check \(passed ? "passed" : "FAILED"): \(check.name)" + (passed ? "" : " — " + output.suffix(500)))
        }
        let total = (ContinuousClock.now - started).seconds
        _ = await ssh.run(["sudo", "-n", "systemctl", "poweroff"], timeout: .seconds(15))
        let deadline = ContinuousClock.now + .seconds(60)
        while await state.result == nil && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(500)) }
        if await state.result == nil { await log("the VM did not power off within 60 s; stopped") }
        return ImageVerification(
            status: results.allSatisfy(\.passed) ? .passed : .failed, accelerator: accelerator, bootSeconds: bootSeconds, totalSeconds: total,
            checks: results, verifiedAt: Date().formatted(.iso8601))
    }

    func tool(_ command: Command) async throws {
        do {
            try await runner.output(command)
        } catch {
            throw BuildFailure(.deployFailed, "\(error)", log: "deploy")
        }
    }

    static func kvmOpens() -> Bool {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    static func tail(of file: String) -> String {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(25).joined(separator: "\n")
    }

    /// What the QEMU process has done so far: a KVM failure seen in its output, and how it ended.
    actor VMState {
        private(set) var kvmFailure = false
        /// nil while it runs; then its result (itself nil when it could not be started).
        private(set) var result: CommandResult??

        func kvmFailed() { kvmFailure = true }
        func ended(_ result: CommandResult?) { self.result = .some(result) }
    }
}

/// qemu-system-x86_64's arguments for a boot test: the disk and seed on virtio, user-mode networking with SSH
/// forwarded to loopback only, the serial console to a file, no display, no monitor.
enum QEMUArguments {
    static func make(accelerator: String, memoryMiB: Int, cpus: Int, disk: String, seed: String, sshPort: Int, console: String, pidFile: String) -> [String] {
        ["-accel", accelerator, "-cpu", accelerator == "kvm" ? "host" : "max", "-m", "\(memoryMiB)", "-smp", "\(cpus)",
         "-drive", "file=\(QEMUArguments.escaped(disk)),if=virtio,format=qcow2",
         "-drive", "file=\(QEMUArguments.escaped(seed)),if=virtio,format=raw,readonly=on",
         "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:\(sshPort)-:22", "-device", "virtio-net-pci,netdev=net0",
         "-serial", "file:\(console)", "-display", "none", "-monitor", "none", "-nodefaults", "-vga", "none", "-no-reboot",
         "-pidfile", pidFile]
    }

    /// QEMU's option syntax splits on commas; a comma in a path is written twice.
    static func escaped(_ path: String) -> String { path.replacingOccurrences(of: ",", with: ",,") }
}
