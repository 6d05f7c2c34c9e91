import ArrowCore
import Crypto
import Foundation
@testable import ArrowStorage
import Testing

/// The local store's multipart digest is the SHA-256 of the object it assembles, whatever order the parts came in,
/// however often they were rewritten, and across a restart; and in-order parts are hashed as they arrive.
@Suite struct PrefixDigestTests {
    static let partSize = 64 * 1024

    static func parts(_ count: Int, seed: UInt8, last: Int = 1000) -> [[UInt8]] {
        (0..<count).map { index in
            let size = index == count - 1 ? last : partSize
            return (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &* 7 &+ Int(seed)) }
        }
    }

    static func sha256(_ parts: [[UInt8]]) -> String {
        var hash = SHA256()
        for part in parts { hash.update(data: part) }
        return Hex.string(hash.finalize())
    }

    func store(_ root: String) throws -> LocalBlobStore {
        try LocalBlobStore(root: root, baseURL: "http://127.0.0.1:1", secret: Array(repeating: 7, count: 32))
    }

    /// A store in a fresh directory (remove `root` when done) and an in-place multipart upload on it.
    func fixture() async throws -> (root: String, store: LocalBlobStore, key: BlobKey, upload: MultipartUpload) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("prefix-\(UUID().uuidString)").path
        let store = try store(root)
        let key = try BlobKey("images/\(UUID().uuidString)/disk.raw")
        return (root, store, key, try await store.createMultipartUpload(key, partSize: Int64(Self.partSize)))
    }

    func send(_ store: LocalBlobStore, _ upload: MultipartUpload, _ number: Int, _ bytes: [UInt8]) async throws -> UploadedPart {
        try await store.uploadPart(upload, number: number, body: BlobBody(bytes: bytes), length: Int64(bytes.count))
    }

    @Test(arguments: ["in order", "reversed", "shuffled", "concurrent"])
    func theDigestIsTheObjectsWhateverTheOrder(_ order: String) async throws {
        let (root, store, key, upload) = try await fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let content = Self.parts(9, seed: 3)
        let numbers = Array(1...content.count)
        let sequence: [Int] = switch order {
        case "reversed": numbers.reversed()
        case "shuffled": numbers.shuffled()
        default: numbers
        }
        if order == "concurrent" {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for number in numbers { group.addTask { _ = try await send(store, upload, number, content[number - 1]) } }
                try await group.waitForAll()
            }
        } else {
            for number in sequence { _ = try await send(store, upload, number, content[number - 1]) }
        }
        // Every part arrived whole, so the running digest covers the object: completion needs no read.
        let uploadID = upload.uploadID
        let parts = try await store.listParts(upload)
        #expect(store.prefixDigests.peek(upload: uploadID) == content.count + 1)
        let (info, sha256) = try await store.completeMultipartUploadWithDigest(upload, parts: parts)
        #expect(sha256 == Self.sha256(content))
        #expect(store.prefixDigests.stashedBytes == 0)
        #expect(info.size == Int64(content.reduce(0) { $0 + $1.count }))
        #expect(try await store.read(key) == Array(content.joined()))
    }

    @Test func aRewrittenPartIsHashedAsItEndsUp() async throws {
        let (root, store, key, upload) = try await fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = Self.parts(4, seed: 1)
        let second = Self.parts(4, seed: 2)
        for number in 1...4 { _ = try await send(store, upload, number, first[number - 1]) }
        _ = try await send(store, upload, 2, second[1])  // after it was hashed: the running digest is dropped
        #expect(store.prefixDigests.stashedBytes == 0)
        let expected = [first[0], second[1], first[2], first[3]]
        let (_, sha256) = try await store.completeMultipartUploadWithDigest(upload, parts: try await store.listParts(upload))
        #expect(sha256 == Self.sha256(expected))
        #expect(try await store.read(key) == Array(expected.joined()))
    }

    @Test func aFailedPartWriteLeavesTheDigestRight() async throws {
        let (root, store, _, upload) = try await fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let content = Self.parts(3, seed: 5)
        _ = try await send(store, upload, 1, content[0])
        // Part 2 declared longer than it is: refused, nothing of it counted.
        await #expect(throws: StorageError.self) {
            _ = try await store.uploadPart(upload, number: 2, body: BlobBody(bytes: Array(content[1].prefix(100))), length: Int64(content[1].count))
        }
        _ = try await send(store, upload, 3, content[2])
        _ = try await send(store, upload, 2, content[1])
        #expect(store.prefixDigests.peek(upload: upload.uploadID) == 4)
        let (_, sha256) = try await store.completeMultipartUploadWithDigest(upload, parts: try await store.listParts(upload))
        #expect(sha256 == Self.sha256(content))
    }

    @Test func aRestartedServerCatchesUpFromTheFile() async throws {
        let (root, before, _, upload) = try await fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let content = Self.parts(5, seed: 9)
        for number in [1, 2, 4] { _ = try await send(before, upload, number, content[number - 1]) }
        let after = try store(root)  // a new process: no digests in memory
        _ = try await send(after, upload, 3, content[2])
        _ = try await send(after, upload, 5, content[4])
        #expect(after.prefixDigests.peek(upload: upload.uploadID) == 6)
        let (_, sha256) = try await after.completeMultipartUploadWithDigest(upload, parts: try await after.listParts(upload))
        #expect(sha256 == Self.sha256(content))
    }

    @Test func withoutARunningDigestCompletionReadsTheFile() async throws {
        let (root, before, _, upload) = try await fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let content = Self.parts(3, seed: 4)
        for number in 1...3 { _ = try await send(before, upload, number, content[number - 1]) }
        let after = try store(root)
        #expect(after.prefixDigests.peek(upload: upload.uploadID) == nil)
        let (_, sha256) = try await after.completeMultipartUploadWithDigest(upload, parts: try await after.listParts(upload))
        #expect(sha256 == Self.sha256(content))
    }

    @Test func earlyPartsKeepTheirBytesWithinTheBudgetAndGiveThemBack() async throws {
        let (root, store, _, upload) = try await fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let content = Self.parts(8, seed: 6)
        for number in [3, 2, 7] { _ = try await send(store, upload, number, content[number - 1]) }
        // 2 and 3 are within reach of part 1 and kept; 7 is too far ahead and will be read from the file.
        #expect(store.prefixDigests.stashedBytes == 2 * Int64(Self.partSize))
        _ = try await send(store, upload, 1, content[0])
        #expect(store.prefixDigests.peek(upload: upload.uploadID) == 4)
        #expect(store.prefixDigests.stashedBytes == 0)
        // A kept part written again keeps only its new bytes.
        _ = try await send(store, upload, 5, content[0])
        _ = try await send(store, upload, 5, content[4])
        #expect(store.prefixDigests.stashedBytes == Int64(Self.partSize))
        for number in [4, 6, 8] { _ = try await send(store, upload, number, content[number - 1]) }
        #expect(store.prefixDigests.peek(upload: upload.uploadID) == 9)
        #expect(store.prefixDigests.stashedBytes == 0)
        let (_, sha256) = try await store.completeMultipartUploadWithDigest(upload, parts: try await store.listParts(upload))
        #expect(sha256 == Self.sha256(content))
    }

    @Test func theStashBudgetIsShared() {
        let digests = PrefixDigests(stashBudget: 100)
        _ = digests.beginWrite(upload: "u", part: 2)
        #expect(digests.reserveStash(upload: "u", part: 2, length: 60))
        _ = digests.beginWrite(upload: "v", part: 2)
        #expect(!digests.reserveStash(upload: "v", part: 2, length: 60))
        digests.endWrite(upload: "u", part: 2, stored: false, hasher: nil, stash: [], length: 60)
        #expect(digests.stashedBytes == 0)
        #expect(digests.reserveStash(upload: "v", part: 2, length: 60))
        digests.forget(upload: "v")
        digests.endWrite(upload: "v", part: 2, stored: true, hasher: nil, stash: [[UInt8](repeating: 1, count: 60)], length: 60)
        #expect(digests.stashedBytes == 0)
    }

    @Test func overlappingWritesOfOnePartPoisonTheRunningDigest() {
        let digests = PrefixDigests()
        var first = digests.beginWrite(upload: "u", part: 1)
        #expect(first != nil)
        #expect(digests.beginWrite(upload: "u", part: 1) == nil)  // the same part twice at once
        first?.update([1, 2, 3])
        digests.endWrite(upload: "u", part: 1, stored: true, hasher: first, stash: nil, length: 3)
        digests.endWrite(upload: "u", part: 1, stored: true, hasher: nil, stash: nil, length: 3)
        #expect(digests.take(upload: "u", parts: 1, length: 3) == nil)
    }
}
