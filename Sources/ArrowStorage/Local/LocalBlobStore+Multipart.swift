import ArrowCore
import Foundation

/// Multipart uploads on the local store: each part is written like an object (staged, fsynced, renamed) into
/// `.multipart/<upload id>/`; completion streams the parts, in order, into one staged file and renames it into
/// place, so the object appears whole or not at all.
extension LocalBlobStore {
    static let maxParts = 10_000

    func uploadDirectory(_ id: String) throws -> String {
        guard !id.isEmpty, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }) else {
            throw StorageError(.notFound, "No such upload")
        }
        return root + "/.multipart/" + id
    }

    func partPath(_ directory: String, _ number: Int) -> String { directory + String(format: "/part-%05d", number) }

    public func createMultipartUpload(_ key: BlobKey) async throws -> MultipartUpload {
        let upload = MultipartUpload(key: key, uploadID: UUID().uuidString.lowercased())
        let directory = try uploadDirectory(upload.uploadID)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(key.rawValue.utf8).write(to: URL(fileURLWithPath: directory + "/key"))
        return upload
    }

    public func multipartUpload(id: String) throws -> MultipartUpload {
        let directory = try uploadDirectory(id)
        guard let stored = FileManager.default.contents(atPath: directory + "/key") else { throw StorageError(.notFound, "No such upload") }
        return MultipartUpload(key: try BlobKey(String(decoding: stored, as: UTF8.self)), uploadID: id)
    }

    /// The directory of an upload that exists and belongs to `upload.key`.
    func existingUpload(_ upload: MultipartUpload) throws -> String {
        let directory = try uploadDirectory(upload.uploadID)
        guard let stored = FileManager.default.contents(atPath: directory + "/key"), String(decoding: stored, as: UTF8.self) == upload.key else {
            throw StorageError(.notFound, "No such upload")
        }
        return directory
    }

    public func uploadPart(_ upload: MultipartUpload, number: Int, body: BlobBody, length: Int64) async throws -> UploadedPart {
        guard (1...Self.maxParts).contains(number) else { throw StorageError(.invalidPart, "Part numbers run from 1 to 10000") }
        let directory = try existingUpload(upload)
        let temporary = stagingPath()
        let size = try await write(body, to: temporary, expectedLength: length, dropCache: false)
        do {
            try await POSIXFile.publish(temporary, as: partPath(directory, number))
        } catch {
            try? await POSIXFile.remove(temporary)
            throw error
        }
        return UploadedPart(number: number, etag: Self.partETag(number: number, size: size), size: size)
    }

    public func listParts(_ upload: MultipartUpload) async throws -> [UploadedPart] {
        let directory = try existingUpload(upload)
        return try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { name -> UploadedPart? in
            guard name.hasPrefix("part-"), let number = Int(name.dropFirst(5)) else { return nil }
            let size = (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0
            return UploadedPart(number: number, etag: Self.partETag(number: number, size: size), size: size)
        }.sorted { $0.number < $1.number }
    }

    public func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws -> BlobInfo {
        try await completeMultipartUpload(upload, parts: parts, observe: { _ in })
    }

    /// Assembles the parts, handing each chunk to `observe` on its way into the object (the registry hashes the
    /// upload here instead of reading the object back).
    public func completeMultipartUpload(
        _ upload: MultipartUpload, parts: [UploadedPart], observe: @escaping @Sendable ([UInt8]) throws -> Void
    ) async throws -> BlobInfo {
        let directory = try existingUpload(upload)
        let key = try upload.blobKey()
        let stored = Dictionary(uniqueKeysWithValues: try await listParts(upload).map { ($0.number, $0) })
        let ordered = parts.sorted { $0.number < $1.number }
        guard !ordered.isEmpty, Set(ordered.map(\.number)).count == ordered.count else {
            throw StorageError(.invalidPart, "Give each part once, at least one")
        }
        for part in ordered where stored[part.number] != part {
            throw StorageError(.invalidPart, "Part \(part.number) is missing or differs from what was uploaded")
        }
        let paths = ordered.map { partPath(directory, $0.number) }
        let assembled = BlobBody(ConcatenatedFiles(paths: paths), transform: { chunk in
            try observe(chunk)
            return chunk
        })
        let total = ordered.reduce(Int64(0)) { $0 + $1.size }
        let info = try await put(key, body: assembled, length: total)
        try? FileManager.default.removeItem(atPath: directory)
        return info
    }

    public func abortMultipartUpload(_ upload: MultipartUpload) async throws {
        let directory = try uploadDirectory(upload.uploadID)
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func partETag(number: Int, size: Int64) -> String { "\"part-\(number)-\(size)\"" }
}

/// The bytes of several files, one after the other, read in chunks.
struct ConcatenatedFiles: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let paths: [String]

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: [String]
        var current: FileChunks.AsyncIterator?

        mutating func next() async throws -> [UInt8]? {
            while true {
                if var iterator = current {
                    if let chunk = try await iterator.next() {
                        current = iterator
                        return chunk
                    }
                    current = nil
                }
                guard !remaining.isEmpty else { return nil }
                let file = try await POSIXFile.openForReading(remaining.removeFirst())
                current = FileChunks(file: file, start: 0, end: try await file.size()).makeAsyncIterator()
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: paths) }
}
