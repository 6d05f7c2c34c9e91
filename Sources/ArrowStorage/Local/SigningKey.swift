import ArrowCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The local store's HMAC key for presigned URLs. With a file, the key is re-read when the file is replaced
/// (`arrow storage rotate-secret` renames a new one into place; checked at most once a second), so a running server
/// stops accepting URLs signed with the old key without a restart. Described as `<redacted>` everywhere.
final class SigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private struct State {
        var key: Redacted<[UInt8]>
        var file: FileIdentity?
        var checked: ContinuousClock.Instant
    }

    /// Inode and modification time: a rename into place changes the inode.
    private struct FileIdentity: Equatable {
        var inode: UInt64
        var modified: Int
    }

    private let path: String?
    private let state: Mutex<State>

    init(_ key: [UInt8], file path: String? = nil) {
        self.path = path
        state = Mutex(State(key: Redacted(key), file: path.flatMap(Self.identity), checked: .now))
    }

    func current() -> [UInt8] {
        guard let path else { return state.withLock { $0.key.value } }
        return state.withLock { state in
            let now = ContinuousClock.now
            guard now - state.checked >= .seconds(1) else { return state.key.value }
            state.checked = now
            let identity = Self.identity(path)
            if identity != state.file, let data = FileManager.default.contents(atPath: path), data.count == 32 {
                state.key = Redacted([UInt8](data))
                state.file = identity
            }
            return state.key.value
        }
    }

    private static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(inode: UInt64(info.st_ino), modified: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec)
    }

    var description: String { "SigningKey(<redacted>)" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .class) }
}
