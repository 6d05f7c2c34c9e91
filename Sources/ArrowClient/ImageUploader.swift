import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// What to upload and how.
public struct UploadOptions: Sendable {
    public var path: String
    /// The name the server sees (default: the file's own name); it decides the declared format.
    public var fileName: String
    /// Form fields as text: name, description, software and ansible_flags (JSON), previous_version_id, organization_id.
    public var fields: [String: String]
    /// Files up to this size go in one request; larger ones in parts.
    public var multipartThreshold: Int64 = 64 << 20
    /// Continue the interrupted multipart upload of this file.
    public var resume = false
    /// Testing aid: stop (as if the connection dropped) after sending this many parts.
    public var interruptAfterParts: Int?

    public init(path: String, fileName: String? = nil, fields: [String: String]) {
        self.path = path
        self.fileName = fileName ?? URL(fileURLWithPath: path).lastPathComponent
        self.fields = fields
    }
}

/// Uploads an image file: one streamed request up to the threshold, the resumable multipart path above it. The
/// SHA-256 is computed while the bytes go out and the server checks it.
public struct ImageUploader: Sendable {
    let client: APIClient
    let stateDirectory: String

    public init(client: APIClient, stateDirectory: String = ImageUploader.defaultStateDirectory()) {
        self.client = client
        self.stateDirectory = stateDirectory
    }

    public static func defaultStateDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        let cache = env["XDG_CACHE_HOME"] ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.cache")
        return cache + "/arrow/uploads"
    }

    /// Uploads and returns the server's image record.
    public func upload(_ options: UploadOptions) async throws -> [String: Any] {
        let file = try LocalFile(path: options.path)
        if options.resume || file.size > options.multipartThreshold {
            return try await MultipartUpload(client: client, file: file, options: options, statePath: statePath(options, file)).run()
        }
        return try await single(file, options)
    }

    /// Whether an interrupted multipart upload of this file is remembered, so `--resume` can continue it.
    public func canResume(_ options: UploadOptions) -> Bool {
        guard let file = try? LocalFile(path: options.path), let path = try? statePath(options, file) else { return false }
        return FileManager.default.fileExists(atPath: path)
    }

    // MARK: - Single request

    private func single(_ file: LocalFile, _ options: UploadOptions) async throws -> [String: Any] {
        let boundary = "arrow-" + UUID().uuidString
        var preamble = ""
        for (name, value) in options.fields.sorted(by: { $0.key < $1.key }) {
            preamble += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        let quoted = options.fileName.map { "\"\r\n".contains($0) ? "_" : String($0) }.joined()
        preamble += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(quoted)\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
        // The digest goes in a field after the file: the server compares it with what it received.
        let trailer: @Sendable (String) -> String = { digest in "\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"sha256\"\r\n\r\n\(digest)\r\n--\(boundary)--\r\n" }
        let hash = RunningDigest()
        let progress = ProgressBar(total: file.size, label: "uploading")
        let body = FormBody(preamble: Array(preamble.utf8), file: file.chunks { chunk in
            hash.update(chunk)
            progress.advance(by: Int64(chunk.count))
        }, trailer: { Array(trailer(hash.hex()).utf8) })
        let length = Int64(preamble.utf8.count) + file.size + Int64(trailer(String(repeating: "0", count: 64)).utf8.count)
        let image = try await client.stream(
            .POST, url: client.baseURL + "/api/vm_images/upload",
            headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body, length: length, authorized: true)
        progress.finish("uploaded \(ProgressBar.bytes(file.size)); checked by the server")
        return image as? [String: Any] ?? [:]
    }

    /// Where an interrupted multipart upload of this file (same server, path, size and modification time) is remembered.
    func statePath(_ options: UploadOptions, _ file: LocalFile) throws -> String {
        let absolute = URL(fileURLWithPath: options.path).standardizedFileURL.path
        let modified = (try? FileManager.default.attributesOfItem(atPath: absolute)[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let identity = "\(client.baseURL)\n\(absolute)\n\(file.size)\n\(modified)"
        return stateDirectory + "/" + SHA256.hash(data: Array(identity.utf8)).hex + ".json"
    }
}

/// The preamble, the file's chunks, then a trailer computed once the file is through.
struct FormBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let preamble: [UInt8]
    let file: FileChunks
    let trailer: @Sendable () -> [UInt8]

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: FormBody
        var stage = 0
        var file: FileChunks.AsyncIterator

        mutating func next() async throws -> ByteBuffer? {
            switch stage {
            case 0:
                stage = 1
                return ByteBuffer(bytes: body.preamble)
            case 1:
                if let chunk = try await file.next() { return chunk }
                stage = 2
                return ByteBuffer(bytes: body.trailer())
            default:
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self, file: file.makeAsyncIterator()) }
}

/// A SHA-256 fed from the upload's chunk callbacks.
final class RunningDigest: Sendable {
    // SHA256 is a plain value without a Sendable conformance; the Mutex is what makes sharing it safe.
    private struct State: @unchecked Sendable { var hash = SHA256() }
    private let state = Mutex(State())

    func update(_ chunk: [UInt8]) { state.withLock { $0.hash.update(data: chunk) } }
    func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in state.withLock { $0.hash.update(bufferPointer: bytes) } }
    }
    func hex() -> String { state.withLock { $0.hash.finalize().hex } }
}

extension SHA256.Digest {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
