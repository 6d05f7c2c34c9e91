import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

extension LocalFile {
    /// Direct I/O wants the buffer, the offset and the length aligned to the device's block size; 4 KiB covers
    /// every common one.
    static let directAlignment = 4096

    /// `length` bytes at `offset`, read whole into one buffer on NIO's thread pool (one multipart part).
    ///
    /// Read with direct I/O where the file system allows it: an image is read once, start to end, and filling the
    /// page cache with it costs more CPU than everything else the client does (on a VM, several times the copy
    /// itself), evicts what the machine was caching, and gains nothing. Falls back to ordinary reads otherwise.
    func readPart(offset: Int64, length: Int) async throws -> ByteBuffer {
        try await NIOThreadPool.singleton.runIfActive { [self] in try readPartBlocking(offset: offset, length: length) }
    }

    func readPartBlocking(offset: Int64, length: Int) throws -> ByteBuffer {
        let alignment = Self.directAlignment
        var buffer = ByteBufferAllocator().buffer(capacity: length + 2 * alignment)
        var padding = 0
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length + 2 * alignment) { raw in
            let base = raw.baseAddress!
            padding = (alignment - Int(bitPattern: base) % alignment) % alignment
            let start = base + padding
            var useDirect = directDescriptor != nil && offset % Int64(alignment) == 0
            var filled = 0
            while filled < length {
                let read: Int
                if useDirect, let direct = directDescriptor, filled % alignment == 0 {
                    // Whole blocks: the last part's read ends at end of file; bytes past `length` are ignored.
                    let blocks = (length - filled + alignment - 1) / alignment * alignment
                    read = pread(direct, start + filled, blocks, off_t(offset) + off_t(filled))
                    if read < 0, errno == EINVAL {
                        useDirect = false
                        continue
                    }
                } else {
                    read = pread(descriptor, start + filled, length - filled, off_t(offset) + off_t(filled))
                }
                guard read > 0 else {
                    throw LocalFileError(message: read == 0 ? "the file got shorter while uploading" : String(cString: strerror(errno)))
                }
                filled += Swift.min(read, length - filled)
            }
            return padding + length
        }
        buffer.moveReaderIndex(forwardBy: padding)
        return buffer
    }
}
