import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// `POST /nodes/{node}/storage/{storage}/upload` (external-apis.md §1.6): multipart with a `Content-Length` (PVE
/// refuses chunked bodies), the plain fields in the one order PVE's parser accepts — `content`,
/// `checksum-algorithm`, `checksum` — then the file part named `filename`, whose file name becomes the volume's.
/// The file is streamed from disk, never held in memory.
extension ProxmoxClient {
    public struct Upload: Sendable {
        public var node: String
        public var storage: String
        /// `import` or `iso`.
        public var content: String
        /// The target name (normalised by PVE: only `[a-zA-Z0-9_.-]` survive).
        public var fileName: String
        public var path: String
        public var sha256: String

        public init(node: String, storage: String, content: String, fileName: String, path: String, sha256: String) {
            self.node = node
            self.storage = storage
            self.content = content
            self.fileName = fileName
            self.path = path
            self.sha256 = sha256
        }
    }

    /// The upload's task (worker `imgcopy`), running on the node this client is connected to.
    public func upload(_ upload: Upload, progress: @escaping @Sendable (Int64) -> Void = { _ in }) async throws -> UPID {
        let path = "/nodes/\(Self.segment(upload.node))/storage/\(Self.segment(upload.storage))/upload"
        let boundary = "arrow-" + UUID().uuidString
        let (head, tail) = Self.multipartFrame(boundary: boundary, content: upload.content, sha256: upload.sha256, fileName: upload.fileName)
        let descriptor = open(upload.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(status: 0, message: "cannot read \(upload.path)", errors: [:], call: "POST \(path)") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(status: 0, message: "cannot stat \(upload.path)", errors: [:], call: "POST \(path)") }
        let size = Int64(info.st_size)
        var request = HTTPClientRequest(url: baseURL + "/api2/json" + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        let body = MultipartStream(head: head, descriptor: descriptor, size: size, tail: tail, progress: progress)
        request.body = .stream(body, length: .known(Int64(head.count) + size + Int64(tail.count)))
        // Upload is exempt from CSRF; it still needs the caller's identity.
        try await authenticate(&request, changes: false)
        return try upid(try await send(request, call: "POST \(path)", timeout: .hours(6)), "upload")
    }

    /// The bytes before and after the file's.
    static func multipartFrame(boundary: String, content: String, sha256: String, fileName: String) -> ([UInt8], [UInt8]) {
        var head = ""
        for (name, value) in [("content", content), ("checksum-algorithm", "sha256"), ("checksum", sha256)] {
            head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"filename\"; filename=\"\(fileName)\"\r\n"
        head += "Content-Type: application/octet-stream\r\n\r\n"
        return (Array(head.utf8), Array("\r\n--\(boundary)--\r\n".utf8))
    }

    /// Head, then the file in 1 MiB `pread`s, then tail.
    struct MultipartStream: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let head: [UInt8]
        let descriptor: Int32
        let size: Int64
        let tail: [UInt8]
        let progress: @Sendable (Int64) -> Void

        struct AsyncIterator: AsyncIteratorProtocol {
            let stream: MultipartStream
            var stage = 0
            var position: Int64 = 0

            mutating func next() async throws -> ByteBuffer? {
                switch stage {
                case 0:
                    stage = 1
                    return ByteBuffer(bytes: stream.head)
                case 1 where position < stream.size:
                    let count = Int(Swift.min(1 << 20, stream.size - position))
                    var bytes = [UInt8](repeating: 0, count: count)
                    let read = bytes.withUnsafeMutableBytes { pread(stream.descriptor, $0.baseAddress, count, off_t(position)) }
                    guard read == count else { throw ProxmoxClient.Failure(status: 0, message: "the image file changed while uploading", errors: [:], call: "upload") }
                    position += Int64(count)
                    stream.progress(position)
                    return ByteBuffer(bytes: bytes)
                case 1:
                    stage = 2
                    return ByteBuffer(bytes: stream.tail)
                default:
                    return nil
                }
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
    }
}
