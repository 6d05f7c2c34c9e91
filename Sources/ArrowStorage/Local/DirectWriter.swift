import ArrowCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes a stream of bytes into a file from an aligned offset with direct I/O, bypassing the page cache: the
/// bytes are copied once into a ring of aligned buffers, and each full buffer goes to the disk while the next ones
/// fill (several writes in flight: one at a time leaves the disk idle between them). Whatever is left at the end
/// that is not a whole block goes through the page cache.
///
/// Why: on this project's VMs, putting fresh pages into the page cache costs several times the copy itself
/// (`dd` of 2 GiB: 2.6–9.2 s of system time buffered, 0.5 s direct), and uploads are written once and read back
/// rarely. One writer is used by one task at a time.
final class DirectWriter: @unchecked Sendable {
    static let blockSize = 4096
    static let bufferSize = 1 << 20
    static let bufferCount = 4

    private let direct: Int32
    private let tail: POSIXFile
    private var buffers: [UnsafeMutableRawPointer]
    private var current = 0
    private var fill = 0
    /// File offset of the current buffer's first byte.
    private var offset: Int64
    /// The write of each buffer, while it is in flight.
    private var inFlight: [Task<Void, any Error>?] = Array(repeating: nil, count: DirectWriter.bufferCount)

    /// Nil when the file system does not take direct I/O or `offset` is not block-aligned: write through the page
    /// cache instead.
    init?(path: String, offset: Int64, tail: POSIXFile) {
        guard offset % Int64(Self.blockSize) == 0, let flag = Self.directFlag else { return nil }
        let fd = open(path, O_WRONLY | O_CLOEXEC | flag)
        guard fd >= 0 else { return nil }
        guard let buffers = DirectBuffers.shared.take(Self.bufferCount) else {
            Glibc.close(fd)
            return nil
        }
        self.direct = fd
        self.tail = tail
        self.buffers = buffers
        self.offset = offset
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

    func append(_ chunk: [UInt8]) async throws {
        var consumed = 0
        while consumed < chunk.count {
            let count = min(Self.bufferSize - fill, chunk.count - consumed)
            chunk.withUnsafeBytes { bytes in
                (buffers[current] + fill).copyMemory(from: bytes.baseAddress! + consumed, byteCount: count)
            }
            fill += count
            consumed += count
            if fill == Self.bufferSize { try await sendCurrent() }
        }
    }

    /// Writes what is left (whole blocks directly, the rest through the page cache) and waits for every write.
    /// The caller still syncs the file.
    func finish() async throws {
        try await settleAll()
        let whole = fill / Self.blockSize * Self.blockSize
        let buffer = BufferAddress(raw: buffers[current])
        let (fd, position, rest, tailFD, path) = (direct, offset, fill - whole, tail.descriptor, tail.path)
        try await POSIXFile.blocking {
            if whole > 0 { try Self.writeAll(fd, buffer.raw, whole, position, path) }
            if rest > 0 { try Self.writeAll(tailFD, buffer.raw + whole, rest, position + Int64(whole), path) }
        }
        offset += Int64(fill)
        fill = 0
    }

    /// Waits for the write in flight, then releases the descriptor and the buffers. Always call it, also after
    /// a failure.
    func close() async {
        _ = try? await settleAll()
        guard !buffers.isEmpty else { return }  // closed already: never close a descriptor number twice
        Glibc.close(direct)
        DirectBuffers.shared.give(buffers)
        buffers = []
    }

    private func sendCurrent() async throws {
        let buffer = BufferAddress(raw: buffers[current])
        let (fd, position, length, path) = (direct, offset, fill, tail.path)
        inFlight[current] = Task { try await POSIXFile.blocking { try Self.writeAll(fd, buffer.raw, length, position, path) } }
        offset += Int64(fill)
        fill = 0
        current = (current + 1) % Self.bufferCount
        // The next buffer is free once its previous write is done.
        try await settle(current)
    }

    private func settle(_ index: Int) async throws {
        defer { inFlight[index] = nil }
        try await inFlight[index]?.value
    }

    /// Waits for every write in flight; the first failure is thrown after all have ended.
    private func settleAll() async throws {
        var failure: (any Error)?
        for index in inFlight.indices {
            do { try await settle(index) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ offset: Int64, _ path: String) throws {
        var done = 0
        while done < count {
            let n = pwrite(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw POSIXFile.error("write", path)
            }
            done += n
        }
    }
}

/// The direct writers' buffers, kept between writes: a fresh mapping costs a page fault and a zeroed page for
/// every 4 KiB on its first use (1 GiB of faults over the 256 parts of a 2 GiB upload). Mapped, not malloc'd, so
/// that buffers beyond the few kept go straight back to the system instead of staying in malloc's arenas, which had
/// raised the server's peak RSS by tens of MiB over a multipart upload.
final class DirectBuffers: Sendable {
    static let shared = DirectBuffers(keep: 2 * DirectWriter.bufferCount)

    private struct Idle: @unchecked Sendable { var pointers: [UnsafeMutableRawPointer] = [] }
    private let idle = Mutex(Idle())
    let keep: Int

    init(keep: Int) { self.keep = keep }

    /// `count` buffers of `DirectWriter.bufferSize` bytes, page-aligned; nil when the system has no memory to map.
    func take(_ count: Int) -> [UnsafeMutableRawPointer]? {
        var buffers = idle.withLock { state in
            let reused = Array(state.pointers.suffix(count))
            state.pointers.removeLast(reused.count)
            return reused
        }
        while buffers.count < count {
            guard let pointer = mmap(nil, DirectWriter.bufferSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  pointer != MAP_FAILED else {
                give(buffers)
                return nil
            }
            buffers.append(pointer)
        }
        return buffers
    }

    /// Keeps up to `keep` buffers for the next writer and unmaps the rest.
    func give(_ buffers: [UnsafeMutableRawPointer]) {
        let kept = idle.withLock { state in
            let kept = max(min(buffers.count, keep - state.pointers.count), 0)
            state.pointers += buffers.prefix(kept)
            return kept
        }
        buffers.dropFirst(kept).forEach { munmap($0, DirectWriter.bufferSize) }
    }

    var idleCount: Int { idle.withLock { $0.pointers.count } }
}

/// A buffer's address handed to the thread pool; the writer does not touch the buffer until that write is done.
private struct BufferAddress: @unchecked Sendable {
    let raw: UnsafeRawPointer
}
