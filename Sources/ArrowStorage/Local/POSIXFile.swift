import ArrowCore
import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Blocking file operations, run on NIO's blocking thread pool so they never stall an event loop or the
/// cooperative pool. Errors carry the path and `errno` text.
struct POSIXFile: Sendable {
    let descriptor: Int32
    let path: String

    static func blocking<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// Creates a new file (never overwriting one).
    static func create(_ path: String) async throws -> POSIXFile {
        let fd = try await blocking { () throws -> Int32 in
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw Self.error("create", path) }
            return fd
        }
        return POSIXFile(descriptor: fd, path: path)
    }

    static func openForReading(_ path: String) async throws -> POSIXFile {
        let fd = try await blocking { () throws -> Int32 in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT || errno == ENOTDIR { throw StorageError(.notFound, "No such object") }
                throw Self.error("open", path)
            }
            return fd
        }
        return POSIXFile(descriptor: fd, path: path)
    }

    /// Opens an existing file for positioned writes (multipart data files).
    static func openForWriting(_ path: String) async throws -> POSIXFile {
        let fd = try await blocking { () throws -> Int32 in
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT { throw StorageError(.notFound, "No such upload") }
                throw Self.error("open", path)
            }
            return fd
        }
        return POSIXFile(descriptor: fd, path: path)
    }

    /// Writes all of `bytes` at `offset` (`pwrite`), leaving the file position alone.
    func write(_ bytes: [UInt8], at offset: Int64) async throws {
        let fd = descriptor, path = self.path
        try await Self.blocking {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.error("write", path)
                }
                done += n
            }
        }
    }

    func truncate(to length: Int64) async throws {
        let fd = descriptor, path = self.path
        try await Self.blocking { if ftruncate(fd, off_t(length)) != 0 { throw Self.error("truncate", path) } }
    }

    func write(_ bytes: [UInt8]) async throws {
        let fd = descriptor, path = self.path
        try await Self.blocking {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.error("write", path)
                }
                offset += n
            }
        }
    }

    /// Reads up to `count` bytes at `offset`; an empty result is the end of the file.
    func read(at offset: Int64, count: Int) async throws -> [UInt8] {
        let fd = descriptor, path = self.path
        return try await Self.blocking {
            while true {
                var failure: Int32?
                // Uninitialized: pread fills it, and zeroing 1 MiB first cost as much as the copy.
                let buffer = [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
                    let n = pread(fd, bytes.baseAddress, count, off_t(offset))
                    if n < 0 { failure = errno }
                    initialized = max(n, 0)
                }
                if let failure {
                    if failure == EINTR { continue }
                    errno = failure
                    throw Self.error("read", path)
                }
                return buffer
            }
        }
    }

    func size() async throws -> Int64 {
        let fd = descriptor, path = self.path
        return try await Self.blocking {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Self.error("stat", path) }
            return Int64(info.st_size)
        }
    }

    /// Starts writeback of a written range without waiting for it (Linux `sync_file_range`), so the final fsync
    /// of a large object has little left to do and disk writes overlap with receiving the next bytes.
    func startWriteback(offset: Int64, length: Int64) async {
        guard let syncFileRange = Self.syncFileRange else { return }
        let fd = descriptor
        _ = try? await Self.blocking { _ = syncFileRange(fd, offset, length, 2 /* SYNC_FILE_RANGE_WRITE */) }
    }

    /// Waits for the writeback of a range that `startWriteback` started, then drops those pages from the page cache:
    /// a multi-GiB upload then cycles through a few MiB of cache instead of evicting everything else (and, on a
    /// VM, reuses memory the host has already backed instead of touching fresh pages).
    func finishWriteback(offset: Int64, length: Int64) async {
        guard let syncFileRange = Self.syncFileRange else { return }
        let fd = descriptor
        _ = try? await Self.blocking { () -> Void in
            // SYNC_FILE_RANGE_WAIT_BEFORE | WRITE | WAIT_AFTER: the range is on disk when this returns.
            _ = syncFileRange(fd, offset, length, 1 | 2 | 4)
            _ = posix_fadvise(fd, off_t(offset), off_t(length), POSIX_FADV_DONTNEED)
        }
    }

    /// glibc's `sync_file_range`, which Swift's Glibc module hides behind `_GNU_SOURCE`; nil where it is missing
    /// (then writeback simply happens at the final fsync).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    func sync() async throws {
        let fd = descriptor, path = self.path
        try await Self.blocking { if fsync(fd) != 0 { throw Self.error("fsync", path) } }
    }

    func close() {
        Glibc.close(descriptor)
    }

    /// Moves `from` to `to` atomically and makes the move durable (fsync of the directory). Unless `replacing`, `to`
    /// must not exist: the file is hard-linked into place (which fails on an existing name, atomically, where a
    /// rename would silently replace it) and the staging name removed, so a stored object is never overwritten.
    /// - Throws: ``StorageError`` `alreadyExists` when `to` exists and may not be replaced.
    static func publish(_ from: String, as to: String, replacing: Bool = false) async throws {
        try await blocking {
            let directory = (to as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let moved = replacing ? rename(from, to) : link(from, to)
            guard moved == 0 else {
                if errno == EEXIST && !replacing { throw StorageError(.alreadyExists, "An object is already stored under this key") }
                if errno == EISDIR || errno == ENOTDIR || errno == ENOTEMPTY || errno == EEXIST || errno == EPERM {
                    throw StorageError(.invalidKey, "The key conflicts with another key used as a folder")
                }
                throw Self.error(replacing ? "rename" : "link", to)
            }
            if !replacing { unlink(from) }
            let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dirFD >= 0 {
                fsync(dirFD)
                Glibc.close(dirFD)
            }
        }
    }

    static func remove(_ path: String) async throws {
        try await blocking {
            if unlink(path) != 0 && errno != ENOENT { throw Self.error("unlink", path) }
        }
    }

    static func error(_ operation: String, _ path: String) -> StorageError {
        let code = errno
        let text = String(cString: strerror(code))
        if code == ENOSPC { return StorageError(.internal, "Disk full: \(operation) \(path): \(text)") }
        return StorageError(.internal, "\(operation) \(path): \(text)")
    }
}
