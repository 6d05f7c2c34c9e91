import CArrowLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs one command inside a mounted image: in a mount namespace of its own (slave propagation), with /proc,
/// /sys, /dev, /dev/pts, a fresh /run and the host's resolv.conf mounted under the image's root, plus the builder's
/// bind mounts (its package cache), then chroot and exec. Everything it mounted vanishes with the namespace when
/// the command and anything it started are gone: nothing leaks into the host's mount table, whatever happens.
///
/// The builder reaches it as `arrow internal-chroot --root DIR [--bind HOST:GUEST]… -- COMMAND ARGS…` through its
/// ``CommandRunner``, so every tool run inside an image is still one typed argument list.
public enum ChrootHelper {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Inside the image's root (so a symlink in the image resolves inside it, never onto the host): writes
    /// standard input to `path` with `mode`, replacing it atomically, and exits.
    public static func write(root: String, path: String, mode: mode_t) throws -> Never {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { throw Failure(description: "internal-chroot: bad path \(path)") }
        let content = FileHandle.standardInput.readDataToEndOfFile()
        guard chroot(root) == 0, chdir("/") == 0 else { throw failure("chroot \(root)") }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".arrow-new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("creating \(path)") }
        let written = content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == content.count, fchmod(fd, mode) == 0, fsync(fd) == 0, close(fd) == 0 else { throw failure("writing \(path)") }
        guard rename(temporary, path) == 0 else { throw failure("replacing \(path)") }
        exit(0)
    }

    /// Sets up the namespace and execs `arguments`; returns only by throwing.
    /// With `enterRoot` false the command runs on the host inside the namespace (ansible-playbook, whose chroot
    /// connection enters the image itself and so finds /proc, /dev and the rest mounted).
    public static func exec(root: String, binds: [(host: String, guest: String)], arguments: [String], enterRoot: Bool = true) throws -> Never {
        guard let command = arguments.first else { throw Failure(description: "internal-chroot: no command given") }
        guard arrow_unshare_mount_namespace() == 0 else { throw failure("unshare(CLONE_NEWNS)") }
        // Nothing mounted from here on propagates back to the host; the host's unmounts still reach this namespace's
        // copies (under a shared parent, as ``DiskImage`` mounts every image), so a copy of another build's image here
        // never outlives that build's unmount.
        guard mount(nil, "/", nil, UInt(MS_REC | MS_SLAVE), nil) == 0 else { throw failure("making / a slave") }
        try mountPseudo("proc", type: "proc", at: root + "/proc")
        try mountPseudo("sysfs", type: "sysfs", at: root + "/sys")
        try bind("/dev", at: root + "/dev", recursive: true)
        try mountPseudo("tmpfs", type: "tmpfs", at: root + "/run", options: "mode=0755")
        try resolvConf(root: root)
        for (host, guest) in binds {
            try FileManager.default.createDirectory(atPath: root + guest, withIntermediateDirectories: true)
            try bind(host, at: root + guest, recursive: false)
        }
        guard !enterRoot || (chroot(root) == 0 && chdir("/") == 0) else { throw failure("chroot \(root)") }
        if enterRoot { setChrootEnvironment() }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execvp(command, &argv)
        throw failure("exec \(command)")
    }

    /// The environment a command inside the image gets (the host's PATH and locale may not exist there).
    static func setChrootEnvironment() {
        setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1)
        setenv("DEBIAN_FRONTEND", "noninteractive", 1)
        setenv("LC_ALL", "C.UTF-8", 1)
        setenv("HOME", "/root", 1)
    }

    static func mountPseudo(_ source: String, type: String, at target: String, options: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        guard mount(source, target, type, 0, options) == 0 else { throw failure("mounting \(type) at \(target)") }
    }

    static func bind(_ source: String, at target: String, recursive: Bool) throws {
        guard mount(source, target, nil, UInt(MS_BIND | (recursive ? MS_REC : 0)), nil) == 0 else {
            throw failure("bind-mounting \(source) at \(target)")
        }
    }

    /// Name resolution inside the image: the host's resolv.conf over the image's, wherever the image's points (a
    /// link into /run, as systemd-resolved's images have, lands in the fresh /run).
    static func resolvConf(root: String) throws {
        guard let hostResolv = FileManager.default.contents(atPath: "/etc/resolv.conf") else { return }
        let path = root + "/etc/resolv.conf"
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
            let target = link.hasPrefix("/") ? root + link : root + "/etc/" + link
            guard target.hasPrefix(root + "/run/") else { return }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: target, contents: hostResolv)
        } else if FileManager.default.fileExists(atPath: path) {
            let copy = root + "/run/arrow-resolv.conf"
            _ = FileManager.default.createFile(atPath: copy, contents: hostResolv)
            try bind(copy, at: path, recursive: false)
        }
    }

    static func failure(_ what: String) -> Failure {
        Failure(description: "internal-chroot: \(what) failed: \(String(cString: strerror(errno)))")
    }
}
