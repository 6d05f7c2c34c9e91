@testable import ArrowFormats
import ArrowTesting
import Foundation
import Testing

/// Helpers over ``TestImages``: qemu's own verdicts, ISO images, and reading and crafting bytes.
enum Fixtures {
    /// What qemu-img says the virtual size is when told the format (never probing).
    static func qemuVirtualSize(_ url: URL, format: String) throws -> UInt64 {
        let data = try TestImages.run("qemu-img", ["info", "-f", format, "--output=json", url.path], in: url.deletingLastPathComponent())
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (object?["virtual-size"] as? NSNumber)?.uint64Value ?? 0
    }

    /// A small ISO 9660 image made by genisoimage.
    static func isoImage(_ name: String, in directory: URL) throws -> URL {
        let content = directory.appendingPathComponent("iso-content-\(name)")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 300_000).write(to: content.appendingPathComponent("payload.bin"))
        try TestImages.run("genisoimage", ["-quiet", "-o", name, "-V", "ARROW", "-r", content.path], in: directory)
        return directory.appendingPathComponent(name)
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    static func write(_ bytes: [UInt8], _ name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }
}

/// An in-memory `RandomAccessBytes` that counts what it was asked to read.
final class MemoryBytes: RandomAccessBytes, @unchecked Sendable {
    let data: [UInt8]
    private let lock = NSLock()
    private var readCount = 0

    init(_ data: [UInt8]) { self.data = data }

    var size: UInt64 { UInt64(data.count) }
    var bytesRead: Int { lock.withLock { readCount } }

    func read(offset: UInt64, length: Int) async throws -> [UInt8] {
        let start = Int(offset), end = min(data.count, start + length)
        lock.withLock { readCount += end - start }
        return Array(data[start..<end])
    }
}

/// A file read with seeks, counting the bytes read.
final class FileBytes: RandomAccessBytes, @unchecked Sendable {
    let handle: FileHandle
    let size: UInt64
    private let lock = NSLock()
    private var readCount = 0

    init(_ url: URL) throws {
        handle = try FileHandle(forReadingFrom: url)
        size = try handle.seekToEnd()
    }

    var bytesRead: Int { lock.withLock { readCount } }

    func read(offset: UInt64, length: Int) async throws -> [UInt8] {
        try lock.withLock {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: length) ?? Data()
            readCount += data.count
            return [UInt8](data)
        }
    }
}

/// Feeds `bytes` to a streaming inspection in chunks of `chunk`; returns its findings and the most bytes it held.
func stream(_ bytes: [UInt8], chunk: Int) -> (findings: Findings, peakRetained: Int) {
    var stream = StreamingInspection()
    var offset = 0
    var peak = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        stream.feed(Array(bytes[offset..<end]))
        peak = max(peak, stream.retainedByteCount)
        offset = end
    }
    return (stream.finish(), peak)
}

/// Both drivers on the same bytes: the seeking one, and the streaming one with the given chunk size.
func inspectBoth(_ bytes: [UInt8], fileName: String, chunk: Int = 65536) async throws -> (seeking: InspectionReport, streaming: InspectionReport) {
    let seeking = Judgement.judge(try await RandomAccessInspection.inspect(MemoryBytes(bytes)), fileName: fileName)
    return (seeking, Judgement.judge(stream(bytes, chunk: chunk).findings, fileName: fileName))
}

/// Inspects with both drivers, requires them to agree, and returns the report.
func inspect(_ bytes: [UInt8], fileName: String, chunk: Int = 65536, sourceLocation: SourceLocation = #_sourceLocation) async throws -> InspectionReport {
    let (seeking, streaming) = try await inspectBoth(bytes, fileName: fileName, chunk: chunk)
    #expect(seeking == streaming, "seeking and streaming inspection disagree", sourceLocation: sourceLocation)
    return seeking
}

extension InspectionReport {
    var checks: [String] { violations.map(\.check) }
}

extension Array where Element == UInt8 {
    mutating func setBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for index in 0..<MemoryLayout<T>.size {
            self[offset + index] = UInt8(truncatingIfNeeded: value >> ((MemoryLayout<T>.size - 1 - index) * 8))
        }
    }

    mutating func setLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for index in 0..<MemoryLayout<T>.size {
            self[offset + index] = UInt8(truncatingIfNeeded: value >> (index * 8))
        }
    }

    mutating func replace(at offset: Int, with bytes: [UInt8]) {
        replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    }
}
