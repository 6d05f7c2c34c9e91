import Crypto
import Synchronization

/// The SHA-256 of each in-place multipart upload's leading run of stored parts, kept as the parts arrive, so that
/// completion has the digest of the whole object without reading it back.
///
/// A part that arrives next in order is hashed while it is written; a part that arrives early is hashed from the
/// data file (where the page cache still has it) once the parts before it are in. Anything that could make the
/// hashed bytes differ from the file's (a part written again, or twice at once) poisons the upload's entry, and
/// completion then reads the file as before. Entries live in memory only: after a restart the first part to land
/// hashes the parts stored before it from the file.
final class PrefixDigests: Sendable {
    private struct Entry {
        var hash = SHA256()
        var nextPart = 1
        var length: Int64 = 0
        var writing: Set<Int> = []
        var catchingUp: Int?
        var poisoned = false
    }

    // SHA256 is a plain value without a Sendable conformance; the Mutex is what makes sharing it safe.
    private struct Entries: @unchecked Sendable { var byUpload: [String: Entry] = [:] }
    private let entries = Mutex(Entries())

    /// A part write begins. Returns the digest so far when this part is the next to hash (the writer continues it
    /// with the part's bytes), nil otherwise.
    func beginWrite(upload: String, part: Int) -> PartHasher? {
        entries.withLock { state in
            var entry = state.byUpload[upload] ?? Entry()
            if part < entry.nextPart || entry.writing.contains(part) || entry.catchingUp == part { entry.poisoned = true }
            entry.writing.insert(part)
            state.byUpload[upload] = entry
            return !entry.poisoned && part == entry.nextPart ? PartHasher(hash: entry.hash) : nil
        }
    }

    /// A part write ended: stored (`hasher` holds the digest through it, if it was next) or failed (`stored` false).
    func endWrite(upload: String, part: Int, stored: Bool, hasher: PartHasher?, length: Int64) {
        entries.withLock { state in
            guard var entry = state.byUpload[upload] else { return }
            entry.writing.remove(part)
            if stored, let hasher, !entry.poisoned, entry.nextPart == part {
                entry.hash = hasher.hash
                entry.nextPart += 1
                entry.length += length
            }
            state.byUpload[upload] = entry
        }
    }

    /// The next part to hash from the file, claimed for the caller: none while another caller catches up, the
    /// part is being written, or the entry is poisoned.
    func claimNext(upload: String) -> (part: Int, hasher: PartHasher)? {
        entries.withLock { state in
            guard var entry = state.byUpload[upload], !entry.poisoned, entry.catchingUp == nil,
                  !entry.writing.contains(entry.nextPart) else { return nil }
            entry.catchingUp = entry.nextPart
            state.byUpload[upload] = entry
            return (entry.nextPart, PartHasher(hash: entry.hash))
        }
    }

    /// Ends a claim: `hasher` holds the digest through the part when it was read whole, nil when it was not there.
    func release(upload: String, part: Int, hasher: PartHasher?, length: Int64) {
        entries.withLock { state in
            guard var entry = state.byUpload[upload], entry.catchingUp == part else { return }
            entry.catchingUp = nil
            if let hasher, !entry.poisoned, entry.nextPart == part {
                entry.hash = hasher.hash
                entry.nextPart += 1
                entry.length += length
            }
            state.byUpload[upload] = entry
        }
    }

    /// Takes the upload's entry away; its digest when it covers exactly parts 1…`parts` and `length` bytes.
    func take(upload: String, parts: Int, length: Int64) -> String? {
        entries.withLock { state in
            guard let entry = state.byUpload.removeValue(forKey: upload), !entry.poisoned, entry.writing.isEmpty,
                  entry.catchingUp == nil, entry.nextPart == parts + 1, entry.length == length else { return nil }
            return entry.hash.finalize().hex
        }
    }

    /// The next part the upload's running digest waits for; nil when there is none or it was poisoned (tests).
    func peek(upload: String) -> Int? {
        entries.withLock { state in state.byUpload[upload].flatMap { $0.poisoned ? nil : $0.nextPart } }
    }

    func forget(upload: String) {
        _ = entries.withLock { $0.byUpload.removeValue(forKey: upload) }
    }
}

/// A SHA-256 in progress over one part, owned by one writer at a time.
struct PartHasher: @unchecked Sendable {
    var hash: SHA256

    mutating func update(_ bytes: [UInt8]) { hash.update(data: bytes) }
}

/// A SHA-256 fed from a stream's transform closure.
final class StreamHasher: Sendable {
    private struct State: @unchecked Sendable { var hash = SHA256() }
    private let state = Mutex(State())

    func update(_ bytes: [UInt8]) { state.withLock { $0.hash.update(data: bytes) } }
    func hex() -> String { state.withLock { $0.hash.finalize().hex } }
}

extension SHA256.Digest {
    var hex: String { SigV4Signer.hex(self) }
}
