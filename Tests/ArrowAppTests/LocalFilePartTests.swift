@testable import ArrowClient
import Foundation
import NIOCore
import Testing

/// Multipart parts read with direct I/O (where the file system has it) are exactly the file's bytes, whatever
/// the part's length and wherever the file ends.
@Suite struct LocalFilePartTests {
    @Test func partsReadWholeAndExactAtEveryOffsetAndAtTheEnd() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arrow-parts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mib = 1 << 20
        var generator = SystemRandomNumberGenerator()
        let words = (0..<((3 * mib + 12_345) / 8 + 1)).map { _ in generator.next() as UInt64 }
        let bytes = Array(words.withUnsafeBytes { Array($0) }.prefix(3 * mib + 12_345))
        let path = directory.appendingPathComponent("disk.raw").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try LocalFile(path: path)

        for (offset, length) in [(0, mib), (mib, mib), (2 * mib, mib + 12_345), (3 * mib, 12_345), (0, bytes.count), (4096, 100), (777, 5000)] {
            let part = try await file.readPart(offset: Int64(offset), length: length)
            #expect(part.readableBytes == length)
            #expect(Array(part.readableBytesView) == Array(bytes[offset..<(offset + length)]), "offset \(offset), length \(length)")
        }
        let past = await #expect(throws: LocalFileError.self) { try await file.readPart(offset: Int64(3 * mib), length: 20_000) }
        #expect(past?.message.contains("shorter") == true)
    }
}
