import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A byte range of a local file, read in 1 MiB chunks with `pread`, each chunk handed to `observe` (hashing,
/// progress) on its way out. Positioned reads let a part be read again on a retry.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let descriptor: Int32
    let offset: Int64
    let length: Int64
    let observe: @Sendable ([UInt8]) -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: FileChunks
        var position: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard position < chunks.length else { return nil }
            let count = Int(Swift.min(1 << 20, chunks.length - position))
            var bytes = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let read = bytes.withUnsafeMutableBytes { buffer in
                    pread(chunks.descriptor, buffer.baseAddress! + filled, count - filled, off_t(chunks.offset + position) + off_t(filled))
                }
                guard read > 0 else { throw LocalFileError(message: read == 0 ? "the file got shorter while uploading" : String(cString: strerror(errno))) }
                filled += read
            }
            position += Int64(count)
            chunks.observe(bytes)
            return ByteBuffer(bytes: bytes)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}

public struct LocalFileError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// An open local file: its descriptor and size.
final class LocalFile: Sendable {
    let descriptor: Int32
    /// The same file opened for direct I/O (bypassing the page cache), when its file system allows it.
    let directDescriptor: Int32?
    let size: Int64

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LocalFileError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw LocalFileError(message: "\(path) is not a regular file")
        }
        self.descriptor = descriptor
        self.size = Int64(info.st_size)
        let direct = Self.directFlag.map { open(path, O_RDONLY | O_CLOEXEC | $0) } ?? -1
        self.directDescriptor = direct >= 0 ? direct : nil
    }

    func chunks(offset: Int64 = 0, length: Int64? = nil, observe: @escaping @Sendable ([UInt8]) -> Void = { _ in }) -> FileChunks {
        FileChunks(descriptor: descriptor, offset: offset, length: length ?? size - offset, observe: observe)
    }

    /// Linux's `O_DIRECT`, which Glibc's Swift module does not export (it is a `_GNU_SOURCE` name).
    static var directFlag: Int32? {
        #if os(Linux) && arch(x86_64)
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return nil
        #endif
    }

    deinit {
        close(descriptor)
        if let directDescriptor { close(directDescriptor) }
    }
}
