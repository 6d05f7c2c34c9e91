import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a builder killed mid-build (SIGKILL, a crash, a power cut) leaves in its work directory: processes still
/// running inside an image, mounts, attached loop devices. A builder clears them before its first claim, so the
/// next attempt starts clean and nothing accumulates on the host.
enum Leftovers {
    /// Clears everything under `directory`; returns what it found, for the log.
    static func clear(under directory: String, runner: any CommandRunner) async -> [String] {
        let root = (directory as NSString).resolvingSymlinksInPath
        var found: [String] = []
        await StrayProcesses.kill(under: root) { found.append($0) }
        for mountPoint in mounts(under: root) {
            _ = try? await runner.run(Command("umount", ["--lazy", "--", mountPoint]))
            found.append("unmounted \(mountPoint)")
        }
        let loops = (try? await runner.output(Command("losetup", ["--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"]))) ?? ""
        for line in loops.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard fields.count == 2, fields[1].hasPrefix(root + "/") else { continue }
            _ = try? await runner.run(Command("losetup", ["--detach", fields[0]]))
            found.append("detached \(fields[0]) (\(fields[1]))")
        }
        return found
    }

    /// Mount points under `root`, deepest first (mountinfo's fifth field, with its octal escapes undone).
    static func mounts(under root: String) -> [String] {
        let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = unescape(String(fields[4]))
            return point.hasPrefix(root + "/") ? point : nil
        }.sorted { $0.count > $1.count }
    }

    static func unescape(_ field: String) -> String {
        var result = "", index = field.startIndex
        while index < field.endIndex {
            if field[index] == "\\", let end = field.index(index, offsetBy: 4, limitedBy: field.endIndex),
               let code = UInt8(field[field.index(after: index)..<end], radix: 8) {
                result.append(Character(UnicodeScalar(code)))
                index = end
            } else {
                result.append(field[index])
                index = field.index(after: index)
            }
        }
        return result
    }
}

/// One builder process per work directory: a second one would clear the first's mounts as leftovers.
final class WorkDirectoryLock: Sendable {
    let descriptor: Int32

    init(_ directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(directory + "/.builder.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BuildFailure(.internalError, "cannot open \(directory)/.builder.lock", log: "summary") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw BuildFailure(.internalError, "another builder is using \(directory); give each builder its own --work-dir", log: "summary")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
