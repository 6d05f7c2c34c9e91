import ArrowCore
import Crypto
import Synchronization

/// The SHA-256 of each in-place multipart upload's leading run of stored parts, kept as the parts arrive, so that
/// completion has the digest of the whole object without reading it back.
///
/// A part that arrives next in order is hashed while it is written; a part that arrives early is hashed once the
/// parts before it are in. Anything that could make the hashed bytes differ from the file's (a part written again,
/// or twice at once) poisons the upload's entry, and completion then reads the file as before. Entries live in
/// memory only: after a restart the first part to land hashes the parts stored before it from the file.
///
/// A part that arrives a little early keeps its bytes in memory (up to `stashBudget` for the whole store) so that
/// its turn needs no read of the file, which direct I/O left out of the page cache; one that does not fit is read
/// back from the data file. `arrow image upload` sends one part at a time here (the sign response's
/// `parallel_parts`), so this serves clients that send parts side by side.
final class PrefixDigests: Sendable {
    private struct Entry {
        var hash = SHA256()
        var nextPart = 1
        var length: Int64 = 0
        var writing: Set<Int> = []
        var catchingUp: Int?
        var poisoned = false
        var stashes: [Int: [[UInt8]]] = [:]
    }

    // SHA256 is a plain value without a Sendable conformance; the Mutex is what makes sharing it safe.
    private struct Entries: @unchecked Sendable {
        var byUpload: [String: Entry] = [:]
        var stashedBytes: Int64 = 0
    }
    private let entries = Mutex(Entries())
    let stashBudget: Int64
    /// How far ahead of the next part to hash a part may be and still keep its bytes.
    static let stashReach = 4

    init(stashBudget: Int64 = 8 << 20) {
        self.stashBudget = stashBudget
    }

    /// A part write begins. Returns the digest so far when this part is the next to hash (the writer continues it
    /// with the part's bytes), nil otherwise.
    func beginWrite(upload: String, part: Int) -> PartHasher? {
        entries.withLock { state in
            var entry = state.byUpload[upload] ?? Entry()
            if part < entry.nextPart || entry.writing.contains(part) || entry.catchingUp == part { entry.poisoned = true }
            if let stale = entry.stashes.removeValue(forKey: part) {  // rewritten: the kept bytes are no longer the file's
                state.stashedBytes -= Self.size(stale)
            }
            entry.writing.insert(part)
            Self.dropStashesIfPoisoned(&entry, &state.stashedBytes)
            state.byUpload[upload] = entry
            return !entry.poisoned && part == entry.nextPart ? PartHasher(hash: entry.hash) : nil
        }
    }

    /// Reserves room to keep the bytes of a part that is being written ahead of its turn; false when it is too
    /// far ahead or the store's budget is spent.
    func reserveStash(upload: String, part: Int, length: Int64) -> Bool {
        entries.withLock { state in
            guard let entry = state.byUpload[upload], !entry.poisoned, part > entry.nextPart,
                  part <= entry.nextPart + Self.stashReach, state.stashedBytes + length <= stashBudget else { return false }
            state.stashedBytes += length
            return true
        }
    }

    /// A part write ended: stored (`hasher` holds the digest through it, if it was next; `stash` its bytes, if it
    /// reserved room for them) or failed (`stored` false).
    func endWrite(upload: String, part: Int, stored: Bool, hasher: PartHasher?, stash: [[UInt8]]?, length: Int64) {
        entries.withLock { state in
            guard var entry = state.byUpload[upload] else {
                if stash != nil { state.stashedBytes -= length }
                return
            }
            entry.writing.remove(part)
            if stored, let hasher, !entry.poisoned, entry.nextPart == part {
                entry.hash = hasher.hash
                entry.nextPart += 1
                entry.length += length
            }
            if let stash {
                if stored, !entry.poisoned, part >= entry.nextPart, entry.stashes[part] == nil {
                    entry.stashes[part] = stash
                } else {
                    state.stashedBytes -= length
                }
            }
            Self.dropStashesIfPoisoned(&entry, &state.stashedBytes)
            state.byUpload[upload] = entry
        }
    }

    /// The next part to hash, claimed for the caller, with its bytes when they were kept (else the caller reads
    /// the file): none while another caller catches up, the part is being written, or the entry is poisoned.
    func claimNext(upload: String) -> (part: Int, hasher: PartHasher, stash: [[UInt8]]?)? {
        entries.withLock { state in
            guard var entry = state.byUpload[upload], !entry.poisoned, entry.catchingUp == nil,
                  !entry.writing.contains(entry.nextPart) else { return nil }
            entry.catchingUp = entry.nextPart
            let stash = entry.stashes.removeValue(forKey: entry.nextPart)
            if let stash { state.stashedBytes -= Self.size(stash) }
            state.byUpload[upload] = entry
            return (entry.nextPart, PartHasher(hash: entry.hash), stash)
        }
    }

    private static func size(_ chunks: [[UInt8]]) -> Int64 { chunks.reduce(0) { $0 + Int64($1.count) } }

    private static func dropStashesIfPoisoned(_ entry: inout Entry, _ stashed: inout Int64) {
        guard entry.poisoned, !entry.stashes.isEmpty else { return }
        stashed -= entry.stashes.values.reduce(0) { $0 + size($1) }
        entry.stashes = [:]
    }

    /// Bytes kept in memory for early parts, across every upload (tests).
    var stashedBytes: Int64 { entries.withLock { $0.stashedBytes } }

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
            guard var entry = state.byUpload.removeValue(forKey: upload) else { return nil }
            entry.poisoned = entry.poisoned || !entry.stashes.isEmpty  // parts kept but never hashed: incomplete
            Self.dropStashesIfPoisoned(&entry, &state.stashedBytes)
            guard !entry.poisoned, entry.writing.isEmpty,
                  entry.catchingUp == nil, entry.nextPart == parts + 1, entry.length == length else { return nil }
            return Hex.string(entry.hash.finalize())
        }
    }

    /// The next part the upload's running digest waits for; nil when there is none or it was poisoned (tests).
    func peek(upload: String) -> Int? {
        entries.withLock { state in state.byUpload[upload].flatMap { $0.poisoned ? nil : $0.nextPart } }
    }

    func forget(upload: String) {
        entries.withLock { state in
            guard var entry = state.byUpload.removeValue(forKey: upload) else { return }
            entry.poisoned = true
            Self.dropStashesIfPoisoned(&entry, &state.stashedBytes)
        }
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
    func hex() -> String { state.withLock { Hex.string($0.hash.finalize()) } }
}
