import Foundation

/// Makes the image safe to clone: the curated virt-sysprep list (imaging-engine.md §3.3) without its ssh-userdir
/// step (the organization's users keep their keys), plus cloud-init state, NetBird identity, apt lists and an
/// empty, not deleted, /etc/machine-id. Runs last, inside the image.
struct Seal {
    let root: ImageRoot

    /// Files removed outright when present.
    static let files = [
        "/var/lib/dbus/machine-id", "/etc/udev/rules.d/70-persistent-net.rules", "/var/lib/systemd/random-seed",
        "/etc/passwd-", "/etc/shadow-", "/etc/group-", "/etc/gshadow-", "/root/.bash_history", "/root/.lesshst",
        "/root/.viminfo", "/usr/sbin/policy-rc.d",
        // apt's binary caches, as `apt-get clean` removes them: apt rebuilds them on its next run, and they were tens of
        // MiB in every artifact (76 MiB in the size report of a Debian build).
        "/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin",
    ]
    /// Directories emptied (kept, with their permissions).
    static let emptied = [
        "/tmp", "/var/tmp", "/var/lib/cloud", "/var/lib/dhcp", "/var/lib/dhclient", "/var/lib/apt/lists", "/var/cache/apt/archives",
        "/var/lib/netbird", "/etc/netbird", "/root/.ansible", "/var/cache/dnf", "/var/cache/yum", "/var/spool/cron/crontabs",
        "/var/lib/systemd/coredump", "/var/crash",
    ]

    func run() async throws {
        do {
            try await root.run(["truncate", "-s", "0", "/etc/machine-id"], quiet: true)
            try await root.run(["rm", "-f", "--"] + Self.files, quiet: true)
            try await root.run(["find", "/etc/ssh", "-maxdepth", "1", "-name", "ssh_host_*", "-delete"], quiet: true)
            for directory in Self.emptied where try await root.exists(directory) {
                try await root.run(["find", directory, "-mindepth", "1", "-delete"], quiet: true)
            }
            // Logs: every file goes, directories stay (services expect them).
            try await root.run(["find", "/var/log", "-type", "f", "-delete"], quiet: true)
            try await root.run(["find", "/home", "-maxdepth", "2", "-name", ".bash_history", "-delete"], quiet: true)
            if try await root.exists("/usr/bin/cloud-init") { _ = try? await root.run(["cloud-init", "clean", "--logs"], quiet: true) }
        } catch let failure as CommandFailure {
            throw BuildFailure(.sealFailed, "\(failure)", log: "summary")
        }
        await root.log("sealed: machine-id emptied, SSH host keys, logs, caches, cloud-init and NetBird state removed")
    }
}
