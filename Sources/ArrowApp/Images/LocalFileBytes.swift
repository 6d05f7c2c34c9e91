import ArrowFormats
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A local file read with `pread`, so inspection touches only the regions the inspectors ask for.
public final class LocalFileBytes: RandomAccessBytes, Sendable {
    public struct OpenFailed: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    private let descriptor: Int32
    private let path: String
    public let size: UInt64

    public init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw OpenFailed(path: path, reason: String(cString: strerror(errno))) }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw OpenFailed(path: path, reason: reason)
        }
        self.descriptor = descriptor
        self.path = path
        self.size = UInt64(end)
    }

    deinit { close(descriptor) }

    public func read(offset: UInt64, length: Int) async throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: length)
        var filled = 0
        while filled < length {
            let count = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + filled, length - filled, off_t(offset) + off_t(filled))
            }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw OpenFailed(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            filled += count
        }
        buffer.removeLast(length - filled)
        return buffer
    }

    /// Judges a local file as an upload of a file with this name would be judged.
    public static func inspect(path: String, fileName: String? = nil) async throws -> InspectionReport {
        let source = try LocalFileBytes(path: path)
        let name = fileName ?? String(path.split(separator: "/").last ?? Substring(path))
        return Judgement.judge(try await RandomAccessInspection.inspect(source), fileName: name)
    }
}
