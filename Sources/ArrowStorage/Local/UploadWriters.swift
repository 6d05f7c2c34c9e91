import ArrowCore
import Synchronization

/// Part writes in flight per multipart upload of the local store, and the uploads being assembled.
///
/// Completion seals an upload before it publishes the assembled file: a part write that starts later is refused as if
/// the upload were gone, and one already writing is waited for. Without this a signed part URL used during or after
/// completion could write into the published object (in place, the upload's `data` file *is* the object's inode) after
/// its checksum was taken: an active image's bytes replaced behind its record.
final class UploadWriters: Sendable {
    private struct Entry {
        var writers = 0
        var sealed = false
    }

    private let state = Mutex<[String: Entry]>([:])

    /// Counts a part write in; refused once the upload is sealed.
    func begin(_ upload: String) throws {
        try state.withLock { entries in
            var entry = entries[upload] ?? Entry()
            guard !entry.sealed else { throw StorageError(.notFound, "No such upload (it is being completed)") }
            entry.writers += 1
            entries[upload] = entry
        }
    }

    func end(_ upload: String) {
        state.withLock { entries in
            guard var entry = entries[upload] else { return }
            entry.writers -= 1
            entries[upload] = entry.writers == 0 && !entry.sealed ? nil : entry
        }
    }

    /// Refuses new part writes and returns once every write in flight has ended.
    /// - Throws: ``StorageError`` `invalidPart` when another completion of the same upload holds the seal, or when a
    ///   part is still being written after `patience` (a slow client must not hold completion forever).
    func seal(_ upload: String, patience: Duration = .seconds(30)) async throws {
        try state.withLock { entries in
            var entry = entries[upload] ?? Entry()
            guard !entry.sealed else { throw StorageError(.invalidPart, "The upload is already being completed") }
            entry.sealed = true
            entries[upload] = entry
        }
        let deadline = ContinuousClock.now + patience
        while state.withLock({ $0[upload]?.writers ?? 0 }) > 0 {
            guard ContinuousClock.now < deadline else {
                unseal(upload)
                throw StorageError(.invalidPart, "A part is still being written; complete the upload once every part is stored")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Lifts the seal: after a completion that failed (the upload stays usable) or one that removed the upload.
    func unseal(_ upload: String) {
        state.withLock { entries in
            guard var entry = entries[upload] else { return }
            entry.sealed = false
            entries[upload] = entry.writers == 0 ? nil : entry
        }
    }
}
