import ArrowProtocol
import Foundation

/// System packages with the image's own package manager, non-interactive, with daemons kept from starting and
/// the downloads kept in the builder's cache (a second build of the same software downloads nothing).
struct Packages {
    enum Manager: String { case apt, dnf, yum }

    let root: ImageRoot

    func manager() async throws -> Manager? {
        if try await root.exists("/usr/bin/apt-get") { return .apt }
        if try await root.exists("/usr/bin/dnf") { return .dnf }
        if try await root.exists("/usr/bin/yum") { return .yum }
        return nil
    }

    /// Installs `names` (nothing to do when empty). Failures are `package_install_failed`.
    func install(_ names: [String]) async throws {
        guard !names.isEmpty else { return }
        guard let manager = try await manager() else {
            throw BuildFailure(.packageInstallFailed, "the image has no apt, dnf or yum to install \(names.joined(separator: ", "))", log: "ansible")
        }
        await root.log("installing with \(manager.rawValue): \(names.joined(separator: " "))")
        do {
            try await withDaemonsStopped {
                switch manager {
                case .apt:
                    try await root.run(["apt-get", "-q", "update"])
                    try await root.run(["apt-get", "-q", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confnew",
                                        "-o", "Dpkg::Options::=--force-confdef", "-o", "APT::Keep-Downloaded-Packages=true", "install", "--"] + names)
                case .dnf, .yum:
                    try await root.run([manager.rawValue, "-y", "--setopt=keepcache=1", "install", "--"] + names)
                }
            }
        } catch let failure as CommandFailure {
            throw BuildFailure(.packageInstallFailed, "\(failure)", log: "ansible")
        }
    }

    /// Debian's policy-rc.d (exit 101: no service starts during the install), removed on every path.
    func withDaemonsStopped(_ body: () async throws -> Void) async throws {
        try await root.write("/usr/sbin/policy-rc.d", "#!/bin/sh\n# arrow-imaging: no daemon starts while the image is built\nexit 101\n", mode: "0755")
        do {
            try await body()
        } catch {
            _ = try? await root.run(["rm", "-f", "/usr/sbin/policy-rc.d"], quiet: true)
            throw error
        }
        try await root.run(["rm", "-f", "/usr/sbin/policy-rc.d"], quiet: true)
    }
}

/// What an image contains: its package list read offline from the dpkg or rpm database.
public enum Contents {
    public typealias Package = BuildProvenance.Package

    static func list(_ root: ImageRoot) async throws -> [Package] {
        if try await root.exists("/usr/bin/dpkg-query") {
            let text = try await root.output(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n"])
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard fields.count == 4, fields[0].hasPrefix("ii") else { return nil }
                return Package(name: fields[1], version: fields[2], architecture: fields[3])
            }.sorted { $0.name < $1.name }
        }
        if try await root.exists("/usr/bin/rpm") {
            let text = try await root.output(["rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n"])
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: "\t").map(String.init)
                return fields.count == 3 ? Package(name: fields[0], version: fields[1], architecture: fields[2]) : nil
            }.sorted { $0.name < $1.name }
        }
        return []
    }

    /// The installed size in bytes of each named package that is installed (dpkg's `Installed-Size` is in KiB).
    static func installedSizes(_ root: ImageRoot, _ names: [String]) async throws -> [String: Int64] {
        guard !names.isEmpty else { return [:] }
        var sizes: [String: Int64] = [:]
        if try await root.exists("/usr/bin/dpkg-query") {
            // dpkg-query exits non-zero when one name is unknown: ask for the whole list and pick.
            let text = try await root.output(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Installed-Size}\n"])
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                if fields.count == 3, fields[0].hasPrefix("ii"), names.contains(String(fields[1])), let kib = Int64(fields[2]) { sizes[String(fields[1])] = kib * 1024 }
            }
        } else if try await root.exists("/usr/bin/rpm") {
            let text = try await root.output(["rpm", "-qa", "--qf", "%{NAME}\t%{SIZE}\n"])
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: "\t")
                if fields.count == 2, names.contains(String(fields[0])), let bytes = Int64(fields[1]) { sizes[String(fields[0])] = bytes }
            }
        }
        return sizes
    }

    /// Added, removed and changed packages between two lists.
    public static func difference(from base: [Package], to built: [Package]) -> (added: [Package], removed: [Package], changed: [BuildProvenance.Change]) {
        let before = Dictionary(base.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(built.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return (
            built.filter { before[$0.name] == nil },
            base.filter { after[$0.name] == nil },
            built.compactMap { package in
                guard let old = before[package.name], old.version != package.version else { return nil }
                return BuildProvenance.Change(name: package.name, from: old.version, to: package.version)
            })
    }
}
