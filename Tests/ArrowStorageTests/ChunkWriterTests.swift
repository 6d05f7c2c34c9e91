import ArrowCore
import Foundation
@testable import ArrowStorage
import Testing

/// Both ways of writing a stream into a file leave exactly its bytes, at its offset, whatever the chunk sizes and
/// wherever the stream ends (direct I/O writes whole blocks; the rest goes through the page cache).
@Suite struct ChunkWriterTests {
    static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131) ^ ($0 >> 7) &+ seed) }
    }

    @Test(arguments: ["direct", "page cache"], [0, 4096, 3 << 20])
    func writesExactlyTheStreamAtItsOffset(_ kind: String, _ offset: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("writer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let before = Self.bytes(offset, seed: 1)
        try Data(before).write(to: URL(fileURLWithPath: path))
        let content = Self.bytes((5 << 20) + 777, seed: 2)
        let file = try await POSIXFile.openForWriting(path)
        let writer: any ChunkWriter = kind == "direct"
            ? try #require(DirectWriter(path: path, offset: Int64(offset), tail: file))
            : PageCacheWriter(file: file, offset: Int64(offset), dropCache: true)
        var position = 0
        var size = 1
        while position < content.count {
            let end = min(content.count, position + size)
            try await writer.append(Array(content[position..<end]))
            position = end
            size = size * 7 % 900_001 + 1  // chunk sizes from 1 byte to ~900 KiB, crossing buffer ends
        }
        try await writer.finish()
        await writer.close()
        try await file.sync()
        file.close()
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written.count == offset + content.count)
        #expect(Array(written.prefix(offset)) == before)
        #expect(Array(written.dropFirst(offset)) == content)
    }

    @Test func anUnalignedOffsetFallsBackToThePageCache() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("writer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: nil)
        let file = try await POSIXFile.openForWriting(path)
        defer { file.close() }
        #expect(DirectWriter(path: path, offset: 100, tail: file) == nil)
    }

    /// Buffers go back to the pool for the next writer (no fresh page faults per part), but only `keep` of them:
    /// the rest are unmapped, so the pool never holds more than it says.
    @Test func theBufferPoolReusesAndKeepsABoundedNumber() throws {
        let pool = DirectBuffers(keep: 3)
        let first = try #require(pool.take(2))
        #expect(Set(first).count == 2)
        pool.give(first)
        #expect(pool.idleCount == 2)
        let again = try #require(pool.take(4))
        #expect(Set(again).isSuperset(of: first), "kept buffers are handed out again")
        #expect(pool.idleCount == 0)
        for pointer in again { pointer.storeBytes(of: 0xA5, as: UInt8.self) }  // every buffer is writable
        pool.give(again)
        #expect(pool.idleCount == 3)
    }
}
