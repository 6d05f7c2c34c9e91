import Foundation

/// A disk image opened for customization: converted to raw, attached to a loop device with its partitions, its
/// root file system found (the one with /etc/os-release) and mounted. ``close()`` undoes all of it and is safe
/// to call on any path, after any failure, more than once.
public actor DiskImage {
    let runner: any CommandRunner
    let log: @Sendable (String) async -> Void
    public let raw: String
    let mountPoint: String
    private(set) var loop: String?
    private(set) var mounted: [String] = []
    /// The mount point made a shared mount of its own (see ``shareMountPoint()``).
    private var shared = false

    public init(raw: String, mountPoint: String, runner: any CommandRunner, log: @escaping @Sendable (String) async -> Void) {
        self.raw = raw
        self.mountPoint = mountPoint
        self.runner = runner
        self.log = log
    }

    /// `qemu-img convert` from the base image's format to raw (sparse), growing it to `diskGB` when larger.
    public static func convert(_ source: String, format: String, to raw: String, diskGB: Int?, runner: any CommandRunner,
                               log: @escaping @Sendable (String) async -> Void) async throws {
        guard ["qcow2", "raw", "vmdk", "vhd", "vhdx", "vpc"].contains(format) else {
            throw BuildFailure(.imageUnavailable, "a \(format) image cannot be customized (ISO installers are not disk images)", log: "ansible")
        }
        let input = format == "vhd" ? "vpc" : format
        try await step(.mountFailed, "converting the base image to raw", log) {
            try await runner.output(Command("qemu-img", ["convert", "-f", input, "-O", "raw", "--", source, raw], timeout: .seconds(1800)))
        }
        if let diskGB {
            let size = (try? FileManager.default.attributesOfItem(atPath: raw)[.size] as? NSNumber)?.int64Value ?? 0
            let wanted = Int64(diskGB) << 30
            if wanted > size {
                await log("growing the disk from \(size >> 20) MiB to \(diskGB) GiB")
                try await step(.mountFailed, "growing the disk", log) {
                    try await runner.output(Command("qemu-img", ["resize", "-f", "raw", "--", raw, "\(diskGB)G"]))
                }
            }
        }
    }

    /// Attaches the raw image and mounts its root file system at the mount point; returns the root device.
    @discardableResult
    public func open() async throws -> String {
        let device = try await Self.step(.mountFailed, "attaching a loop device", log) {
            try await runner.output(Command("losetup", ["--find", "--show", "--partscan", "--", raw])).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        loop = device
        await log("attached \(raw) as \(device)")
        let candidates = try await partitions(of: device)
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try await shareMountPoint()
        for candidate in candidates {
            let type = (try? await runner.output(Command("blkid", ["-o", "value", "-s", "TYPE", "--", candidate])))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard ["ext4", "ext3", "ext2", "xfs", "btrfs"].contains(type) else { continue }
            guard try await runner.run(Command("mount", ["-t", type, "--", candidate, mountPoint])).succeeded else { continue }
            mounted.append(mountPoint)
            if FileManager.default.fileExists(atPath: mountPoint + "/etc/os-release") || FileManager.default.fileExists(atPath: mountPoint + "/usr/lib/os-release") {
                await log("root file system: \(candidate) (\(type))")
                return candidate
            }
            try await unmount(mountPoint)
        }
        throw BuildFailure(.mountFailed, "no partition of the image holds a Linux root file system (/etc/os-release)", log: "ansible")
    }

    /// Makes the mount point a shared mount of its own (a bind of the directory onto itself, in a new peer group)
    /// before the image is mounted on it. Every chroot runs in a mount namespace that copies the host's mounts —
    /// another build's image included — as slaves (``ChrootHelper``); under a shared parent, this image's unmount
    /// reaches those copies too. Without it a copy kept the file system alive after the unmount here, the loop
    /// device stayed attached, and a reopened or converted disk missed the last writes (a copied file empty).
    func shareMountPoint() async throws {
        let mountPoint = self.mountPoint
        try await Self.step(.mountFailed, "preparing the mount point", log) {
            try await runner.output(Command("mount", ["--bind", "--", mountPoint, mountPoint]))
        }
        shared = true
        try await Self.step(.mountFailed, "preparing the mount point", log) {
            // Private first: a bind of a shared mount joins the host's peer group, and our mounts must not spread there.
            try await runner.output(Command("mount", ["--make-private", "--", mountPoint]))
            try await runner.output(Command("mount", ["--make-shared", "--", mountPoint]))
        }
    }

    /// Grows the mounted root partition to the end of the disk and its file system with it (after ``convert``
    /// made the disk larger). A root that is not the disk's last partition, or not a partition, is left as it is.
    public func growRoot(_ device: String) async throws {
        guard let loop, device != loop, let number = device.split(separator: "p").last.flatMap({ Int($0) }) else { return }
        let siblings = try await partitions(of: loop)
        guard siblings.last == device else {
            await log("the root partition is not the disk's last; the extra space is left unallocated")
            return
        }
        let type = try await runner.output(Command("blkid", ["-o", "value", "-s", "TYPE", "--", device])).trimmingCharacters(in: .whitespacesAndNewlines)
        let mountPoint = self.mountPoint
        try await Self.step(.mountFailed, "growing the root partition", log) {
            try await runner.output(Command("sfdisk", ["--no-reread", "--force", "-N", String(number), "--", loop], input: ", +\n"))
            try await runner.output(Command("partx", ["--update", "--nr", String(number), "--", loop]))
        }
        // Offline for ext* (an online resize needs privileges a container may not grant), online for XFS (the only
        // way it grows).
        if type.hasPrefix("ext") {
            try await unmount(mountPoint)
            try await Self.step(.mountFailed, "growing the root file system", log) {
                _ = try await runner.run(Command("e2fsck", ["-f", "-p", "--", device], timeout: .seconds(1800)))
                try await runner.output(Command("resize2fs", ["--", device], timeout: .seconds(1800)))
            }
            try await Self.step(.mountFailed, "mounting the grown root file system", log) {
                try await runner.output(Command("mount", ["-t", type, "--", device, mountPoint]))
            }
            mounted.append(mountPoint)
        } else if type == "xfs" {
            try await Self.step(.mountFailed, "growing the root file system", log) {
                try await runner.output(Command("xfs_growfs", ["--", mountPoint]))
            }
        }
        await log("grew the root partition \(device) and its \(type) file system to the end of the disk")
    }

    /// The partitions of `device` (waiting for the kernel's nodes to appear), or the whole device when it has none.
    func partitions(of device: String) async throws -> [String] {
        let name = (device as NSString).lastPathComponent
        for attempt in 0..<50 {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block/\(name)")) ?? []
            let parts = entries.filter { $0.hasPrefix(name + "p") }.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
            if !parts.isEmpty, parts.allSatisfy({ FileManager.default.fileExists(atPath: "/dev/" + $0) }) { return parts.map { "/dev/" + $0 } }
            if attempt == 10 { _ = try? await runner.run(Command("partx", ["-a", "--", device])) }
            if attempt > 20 && parts.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return [device]
    }

    /// Unmounts one file system this image mounted; never lazily (a lazily detached file system may not have
    /// written everything back).
    func unmount(_ path: String) async throws {
        guard await Self.unmountPatiently(path, runner: runner, log: log) else {
            throw BuildFailure(.mountFailed, "\(path) stayed busy and could not be unmounted", log: "ansible")
        }
        mounted.removeAll { $0 == path }
    }

    /// `umount`, waiting out a process that is still exiting (a daemon killed a moment ago keeps the file system
    /// busy briefly); false when it stayed busy.
    static func unmountPatiently(_ path: String, runner: any CommandRunner, log: @escaping @Sendable (String) async -> Void) async -> Bool {
        for attempt in 0..<10 {
            if (try? await runner.run(Command("umount", ["--", path])).succeeded) == true { return true }
            await StrayProcesses.kill(under: path, log: log)
            try? await Task.sleep(for: .milliseconds(200 * (attempt + 1)))
        }
        return false
    }

    /// Unmounts and detaches everything this image attached; false when a file system stayed busy (then it is
    /// detached lazily and the disk must not be used: its last writes may not have reached it). Runs to its end even
    /// when the build was canceled (an unstructured task does not inherit the cancellation that would otherwise stop
    /// `umount` before it started).
    @discardableResult
    public func close() async -> Bool {
        let paths = Array(mounted.reversed()) + (shared ? [mountPoint] : []), loop = self.loop, runner = self.runner, log = self.log
        mounted.removeAll()
        shared = false
        self.loop = nil
        let clean = await Task { () -> Bool in
            var clean = true
            for path in paths {
                if await !Self.unmountPatiently(path, runner: runner, log: log) {
                    clean = false
                    await log("\(path) stayed busy; detached lazily")
                    _ = try? await runner.run(Command("umount", ["--lazy", "--", path]))
                }
            }
            if let loop {
                _ = try? await runner.run(Command("losetup", ["--detach", loop]))
                if await Self.released(loop) {
                    await log("detached \(loop)")
                } else {
                    // The kernel defers the detach while the file system is still mounted somewhere (another mount
                    // namespace): its last writes have not reached the disk file yet.
                    clean = false
                    await log("\(loop) is still in use elsewhere; it detaches when released")
                }
            }
            return clean
        }.value
        return clean
    }

    /// Whether the loop device let go of its file (the kernel clears it on the last close after the detach).
    static func released(_ loop: String) async -> Bool {
        let backing = "/sys/block/\((loop as NSString).lastPathComponent)/loop/backing_file"
        for _ in 0..<20 {
            if !FileManager.default.fileExists(atPath: backing) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @discardableResult
    static func step<T: Sendable>(_ code: BuildFailure.Code, _ what: String, _ log: @Sendable (String) async -> Void,
                                  _ body: @Sendable () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as BuildFailure {
            throw failure
        } catch {
            await log("\(what) failed: \(error)")
            throw BuildFailure(code, "\(what) failed: \(error)", log: "ansible")
        }
    }
}
