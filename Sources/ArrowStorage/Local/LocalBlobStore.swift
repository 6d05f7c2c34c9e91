import ArrowCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The embedded default store: files under a root directory.
///
/// Layout: `objects/<key>` holds objects; `.staging/` holds writes in progress, each renamed into place only
/// after it is complete and fsynced, so a crash never leaves a partial object under its key; `.multipart/<id>/`
/// holds the parts of multipart uploads. Keys are ``BlobKey``s, which cannot name anything outside the root.
public struct LocalBlobStore: ServerSignedStorage, DigestingAssembly {
    public let root: String
    let presigner: LocalPresigner
    let prefixDigests: PrefixDigests
    let writers = UploadWriters()
    /// Names this process's staging files (`<tag>.<uuid>.tmp`), so the files a dead process left are recognised.
    let stagingTag: String
    static let readChunk = 1 << 20

    /// - Parameters:
    ///   - root: the store's directory (created if missing).
    ///   - baseURL: the server's public URL; presigned URLs point at `<baseURL>/api/storage/…`.
    ///   - secret: the HMAC key for presigned URLs (see ``LocalPresigner/loadOrCreateSecret(in:)``).
    ///   - dataDirectory: where the key's file lives, if it should be re-read after `arrow storage rotate-secret`.
    ///   - instance: the server process's id, written into staging file names (see ``cleanUpStaging(keeping:)``).
    public init(root: String, baseURL: String, secret: [UInt8], dataDirectory: String? = nil, instance: String? = nil) throws {
        self.root = root
        self.stagingTag = instance ?? "untagged"
        self.presigner = LocalPresigner(baseURL: baseURL, secret: secret, secretFile: dataDirectory.map(LocalPresigner.secretPath))
        self.prefixDigests = PrefixDigests()
        for dir in ["objects", ".staging", ".multipart"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
    }

    func objectPath(_ key: BlobKey) -> String { root + "/objects/" + key.rawValue }
    func stagingPath() -> String { root + "/.staging/" + stagingTag + "." + UUID().uuidString + ".tmp" }

    public func put(_ key: BlobKey, body: BlobBody, length: Int64?) async throws -> BlobInfo {
        let temporary = stagingPath()
        let size = try await write(body, to: temporary, expectedLength: length)
        do {
            try await POSIXFile.publish(temporary, as: objectPath(key))
        } catch {
            try? await POSIXFile.remove(temporary)
            throw error
        }
        return try await head(key) ?? BlobInfo(key: key, size: size)
    }

    /// Streams `body` into a new file at `path` and fsyncs it; on any failure the file is removed.
    /// - Parameter dropCache: drop written pages from the page cache as they reach the disk (objects, which are not
    ///   read back soon); staged multipart parts keep them, since completion reads them straight back.
    func write(_ body: BlobBody, to path: String, expectedLength: Int64?, dropCache: Bool = true) async throws -> Int64 {
        let file = try await POSIXFile.create(path)
        // Through the page cache, dropping pages once written: measured faster here than direct I/O for whole
        // objects, whose writer competes with the client reading its file on the same disk.
        let writer = PageCacheWriter(file: file, offset: 0, dropCache: dropCache)
        do {
            let written = try await Self.stream(body, into: writer, expectedLength: expectedLength)
            await writer.close()
            try await file.sync()
            file.close()
            return written
        } catch {
            await writer.close()
            file.close()
            try? await POSIXFile.remove(path)
            throw error
        }
    }

    /// Feeds `body` to `writer`, refusing more or fewer bytes than `expectedLength`; `observe` sees each chunk
    /// once it is handed over. Returns the byte count.
    static func stream(
        _ body: BlobBody, into writer: any ChunkWriter, expectedLength: Int64?, observe: ([UInt8]) -> Void = { _ in }
    ) async throws -> Int64 {
        var written: Int64 = 0
        for try await chunk in body {
            written += Int64(chunk.count)
            if let expectedLength, written > expectedLength {
                throw StorageError(.lengthMismatch, "The body is longer than the declared \(expectedLength) bytes")
            }
            try await writer.append(chunk)
            observe(chunk)
        }
        if let expectedLength, written != expectedLength {
            throw StorageError(.lengthMismatch, "The body has \(written) bytes, not the declared \(expectedLength)")
        }
        try await writer.finish()
        return written
    }

    public func get(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody) {
        try await read(objectPath(key), key: key, range: range)
    }

    func read(_ path: String, key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody) {
        let file = try await POSIXFile.openForReading(path)
        let size: Int64
        do {
            size = try await file.size()
        } catch {
            file.close()
            throw error
        }
        let info = BlobInfo(key: key, size: size)
        guard let range else { return (info, BlobBody(FileChunks(file: file, start: 0, end: size), transform: { $0 })) }
        let bounds: ClosedRange<Int64>
        do {
            bounds = try range.resolved(size: size)
        } catch {
            file.close()
            throw error
        }
        return (info, BlobBody(FileChunks(file: file, start: bounds.lowerBound, end: bounds.upperBound + 1), transform: { $0 }))
    }

    public func head(_ key: BlobKey) async throws -> BlobInfo? {
        let path = objectPath(key)
        return try await POSIXFile.blocking {
            var info = stat()
            guard stat(path, &info) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw POSIXFile.error("stat", path)
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
            return BlobInfo(key: key, size: Int64(info.st_size), etag: "\(info.st_size)-\(info.st_mtim.tv_sec)-\(info.st_mtim.tv_nsec)",
                            lastModified: modified)
        }
    }

    public func delete(_ key: BlobKey) async throws {
        try await POSIXFile.remove(objectPath(key))
    }

    public func list(prefix: String) async throws -> [BlobInfo] {
        let base = root + "/objects"
        let paths = try await POSIXFile.blocking { () -> [String] in
            guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
            var found: [String] = []
            while let relative = walker.nextObject() as? String {
                if relative.hasPrefix(prefix) { found.append(relative) }
            }
            return found
        }
        var infos: [BlobInfo] = []
        // Directories match too but have no head; only objects are listed.
        for relative in paths.sorted() {
            if let key = try? BlobKey(relative), let info = try await head(key) { infos.append(info) }
        }
        return infos
    }

    // MARK: Presigned URLs (served by the API at /api/storage/…)

    public func presignGet(_ key: BlobKey, expiresIn: TimeInterval) throws -> PresignedRequest {
        presigner.presign(method: "GET", path: "/api/storage/objects/" + LocalPresigner.encodePath(key.rawValue),
                          expiresIn: expiresIn, contentLength: nil)
    }

    public func presignUploadPart(_ upload: MultipartUpload, number: Int, expiresIn: TimeInterval, contentLength: Int64?) throws -> PresignedRequest {
        presigner.presign(method: "PUT", path: "/api/storage/uploads/\(upload.uploadID)/\(number)", expiresIn: expiresIn,
                          contentLength: contentLength)
    }

    /// Checks a presigned request that reached the server and says what it may touch.
    /// - Throws: ``StorageError`` `invalidSignature`, `expired`, `lengthMismatch`.
    public func authorize(method: String, path: String, query: [String: String], contentLength: Int64?) throws -> SignedStorageTarget {
        try presigner.verify(method: method, path: path, query: query, contentLength: contentLength)
    }

    /// Removes writes a crash left in staging, and multipart uploads untouched for `age`.
    /// Removes staging files written by server processes not in `live` (a process killed mid-write leaves them);
    /// untagged files are left to ``cleanUp(olderThan:)``. Returns how many were removed.
    @discardableResult
    public func cleanUpStaging(keeping live: Set<String>) -> Int {
        let base = root + "/.staging"
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            guard let dot = name.firstIndex(of: "."), case let tag = String(name[..<dot]), tag != "untagged", !live.contains(tag) else { continue }
            if (try? FileManager.default.removeItem(atPath: base + "/" + name)) != nil { removed += 1 }
        }
        return removed
    }

    public func cleanUp(olderThan age: TimeInterval) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-age)
        var removed = 0
        for dir in [".staging", ".multipart"] {
            let base = root + "/" + dir
            for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
                let path = base + "/" + name
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
                if modified < cutoff {
                    try? FileManager.default.removeItem(atPath: path)
                    removed += 1
                }
            }
        }
        return removed
    }
}

/// Reads a file region in chunks. The file closes at the end, or when the reader is dropped half-way (a client
/// that disconnects mid-download), so no descriptor is left behind.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let file: POSIXFile
    let start: Int64
    let end: Int64

    /// Owns the descriptor for one iteration; closes it once, whichever comes first.
    final class Reader {
        let file: POSIXFile
        private var open = true
        init(_ file: POSIXFile) { self.file = file }
        func close() {
            if open { file.close() }
            open = false
        }
        deinit { close() }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let reader: Reader
        var offset: Int64
        let end: Int64

        mutating func next() async throws -> [UInt8]? {
            guard offset < end else {
                reader.close()
                return nil
            }
            let count = Int(Swift.min(Int64(LocalBlobStore.readChunk), end - offset))
            let chunk = try await reader.file.read(at: offset, count: count)
            if chunk.isEmpty {
                reader.close()
                throw StorageError(.internal, "The object shrank while it was read")
            }
            offset += Int64(chunk.count)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: Reader(file), offset: start, end: end) }
}
