import ArrowProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What each customization step added to the image's root file system, measured as used bytes of the mounted file
/// system before and after it (`statvfs`, from the host; the roles are measured by checkpoints in the playbook, see
/// ``Ansible``). Kept in the workspace so the finalization phase — perhaps a later attempt — reports it.
struct SizeLedger: Codable, Equatable {
    var baseUsedBytes: Int64?
    var usedBytes: Int64?
    var items: [SizeReport.Item] = []

    /// Used bytes of the file system holding `path`; nil when it cannot be read.
    static func used(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_blocks - info.f_bfree) * Int64(info.f_frsize)
    }

    /// Bytes of apt's binary package caches (`/var/cache/apt/*.bin`) in the image mounted at `mount`.
    static func aptCaches(_ mount: String) -> Int64 {
        let directory = mount + "/var/cache/apt"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".bin") }.reduce(0) { $0 + (ImageCache.size(of: "\(directory)/\($1)") ?? 0) }
    }

    /// Runs `step` and records what it added to the file system at `path` as one item.
    mutating func measure<T>(_ kind: String, _ name: String, at path: String, _ step: () async throws -> T) async rethrows -> T {
        let before = Self.used(path)
        let result = try await step()
        if let before, let after = Self.used(path) { items.append(.init(kind: kind, name: name, bytes: after - before)) }
        return result
    }

    /// Runs `install` (the system packages) and records each package's own installed size, apt's package caches
    /// apart (the seal removes them), and what the dependencies brought: the rest of the step's growth.
    mutating func measurePackages(_ packages: [String], root: ImageRoot, at path: String, _ install: () async throws -> Void) async throws {
        let before = Self.used(path), cachesBefore = Self.aptCaches(path)
        try await install()
        guard !packages.isEmpty, let before, let after = Self.used(path) else { return }
        let own = try await Contents.installedSizes(root, packages)
        let caches = Self.aptCaches(path) - cachesBefore
        items += packages.map { SizeReport.Item(kind: "package", name: $0, bytes: own[$0] ?? 0) }
        items.append(SizeReport.Item(kind: "dependencies", name: "dependencies of the packages above", bytes: after - before - own.values.reduce(0, +) - caches))
        if caches != 0 { items.append(SizeReport.Item(kind: "cache", name: "apt's package caches (removed by the seal)", bytes: caches)) }
    }

    func report(artifactBytes: Int64) -> SizeReport {
        SizeReport(artifactBytes: artifactBytes, baseUsedBytes: baseUsedBytes, usedBytes: usedBytes, items: items)
    }

    func save(to file: String) throws { try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: file)) }

    static func load(from file: String) -> SizeLedger? {
        FileManager.default.contents(atPath: file).flatMap { try? JSONDecoder().decode(SizeLedger.self, from: $0) }
    }
}

/// Reads the roles' size checkpoints from ansible-playbook's output: `"msg": "ARROW-SIZE <n> <blocks>:<free>:<block size>"`.
actor SizeCheckpoints {
    private(set) var used: [Int: Int64] = [:]

    func see(_ line: String) {
        guard let start = line.range(of: "ARROW-SIZE ") else { return }
        let fields = line[start.upperBound...].split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "\"" }).prefix(4).compactMap { Int64($0) }
        guard fields.count == 4 else { return }
        used[Int(fields[0])] = (fields[1] - fields[2]) * fields[3]
    }

    /// Bytes each role added: the checkpoint after it minus the one before.
    func growth(of roles: [String]) -> [SizeReport.Item] {
        roles.enumerated().compactMap { index, role in
            guard let before = used[index], let after = used[index + 1] else { return nil }
            return SizeReport.Item(kind: "role", name: role, bytes: after - before)
        }
    }
}
