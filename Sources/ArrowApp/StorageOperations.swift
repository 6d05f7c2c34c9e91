import ArrowCore
import ArrowStorage
import Foundation
import Logging
import NIOPosix

/// What `arrow storage …` does, on the configured store.
public struct StorageOperations: Sendable {
    public let store: any BlobStore

    public init(config: AppConfiguration, logger: Logger) throws {
        self.store = try Backends.openStorage(config, logger: logger).0
    }

    /// Writes, reads back, lists and deletes a small probe object; returns what it did, step by step.
    /// - Throws: the first ``StorageError``, after trying to remove the probe object.
    public func check() async throws -> [String] {
        let key = try BlobKey("arrow-storage-check-\(UUID().uuidString.lowercased())")
        let payload = Array("arrow storage check \(Date())".utf8)
        var steps: [String] = []
        do {
            try await store.put(key, body: BlobBody(bytes: payload), length: Int64(payload.count))
            steps.append("put \(key) (\(payload.count) bytes): ok")
            guard try await store.read(key) == payload else { throw StorageError(.internal, "Read back different bytes") }
            steps.append("get: ok, same bytes")
            guard try await store.list(prefix: key.rawValue).count == 1 else { throw StorageError(.internal, "Not listed") }
            steps.append("list: ok")
            try await store.delete(key)
            guard try await store.head(key) == nil else { throw StorageError(.internal, "Still there after delete") }
            steps.append("delete: ok")
            return steps
        } catch {
            try? await store.delete(key)
            throw error
        }
    }

    /// Replaces the local store's URL-signing secret (see ``LocalPresigner/rotateSecret(in:)``).
    public static func rotateSigningSecret(_ config: AppConfiguration) throws {
        try LocalPresigner.rotateSecret(in: config.dataDirectory)
    }

    /// Streams a file (or standard input, for `-`) into `key`.
    public func put(key: String, file: String) async throws -> BlobInfo {
        let key = try BlobKey(key)
        let handle = file == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        let length: Int64? = file == "-" ? nil : (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
        return try await store.put(key, body: BlobBody(FileReader(handle: handle), transform: { $0 }), length: length)
    }

    /// Streams `key` into a file (or standard output, for `-`).
    public func get(key: String, file: String) async throws -> Int64 {
        let (_, body) = try await store.get(try BlobKey(key), range: nil)
        let handle: FileHandle
        if file == "-" {
            handle = .standardOutput
        } else {
            _ = FileManager.default.createFile(atPath: file, contents: nil)
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        }
        var total: Int64 = 0
        for try await chunk in body {
            try await NIOThreadPool.singleton.runIfActive { try handle.write(contentsOf: chunk) }
            total += Int64(chunk.count)
        }
        try handle.close()
        return total
    }
}

/// A file read in 2 MiB chunks on NIO's blocking pool. (Reading one chunk ahead was measured: no gain, the disk
/// write is the bound.)
struct FileReader: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let handle: FileHandle

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle
        mutating func next() async throws -> [UInt8]? {
            let handle = self.handle
            let data = try await NIOThreadPool.singleton.runIfActive { try handle.read(upToCount: 2 << 20) }
            guard let data, !data.isEmpty else { return nil }
            return [UInt8](data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle) }
}
