import ArrowProtocol
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The builder API, typed: what `arrow builder` says to the server, in ``ArrowProtocol``'s wire types only.
extension APIClient {
    /// A lease as the configuration reads present it (``LeaseHeaders``).
    public struct Lease: Sendable, Equatable {
        public var taskID: String
        public var attempt: Int
        public var token: String

        public init(taskID: String, attempt: Int, token: String) {
            self.taskID = taskID
            self.attempt = attempt
            self.token = token
        }

        var headers: [(String, String)] {
            [(LeaseHeaders.task, taskID), (LeaseHeaders.attempt, String(attempt)), (LeaseHeaders.token, token)]
        }
    }

    /// The oldest task this builder can build, waiting up to `request.wait` seconds; nil when none came.
    public func claim(_ request: ClaimRequest) async throws -> ClaimResponse? {
        try await wire(.POST, "/api/vm-build/tasks/claim", body: request, timeout: .seconds(Int64(request.wait ?? 0) + 30), as: ClaimResponse.self)
    }

    public func report(_ report: TaskStatusReport) async throws -> TaskStatusReply {
        guard let reply = try await wire(.POST, "/api/vm-build/task-status", body: report, as: TaskStatusReply.self) else {
            throw APIError(status: 204, code: "empty_reply", message: "The server answered the status report with no body")
        }
        return reply
    }

    public func appendLog(_ chunk: TaskLogUpload) async throws {
        _ = try await wire(.POST, "/api/vm-build/task-logs", body: chunk, as: TaskLogReceipt.self)
    }

    public func clientConfig(organization: String, lease: Lease) async throws -> BuilderClientConfig {
        try await required(wire(.GET, "/api/imaging/client-config/\(Self.segment(organization))", body: Empty?.none, headers: lease.headers,
                                as: BuilderClientConfig.self))
    }

    public func imageConfig(lease: Lease) async throws -> ImageConfigDocument {
        try await required(wire(.GET, "/api/imaging/image-config/\(Self.segment(lease.taskID))", body: Empty?.none, headers: lease.headers,
                                as: ImageConfigDocument.self))
    }

    struct Empty: Encodable {}

    struct PublishRequest: Encodable { var artifactImageId: String }
    struct Published: Decodable { var downloadUrl: String }

    public func publishArtifact(lease: Lease, imageId: String) async throws -> String {
        try await required(wire(.POST, "/api/vm-build/tasks/\(Self.segment(lease.taskID))/publish", body: PublishRequest(artifactImageId: imageId),
                                headers: lease.headers, as: Published.self)).downloadUrl
    }

    /// Sends `body` as JSON and decodes the answer as `Reply`; nil for 204. Error statuses throw ``APIError``.
    func wire<Body: Encodable, Reply: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(60), as: Reply.Type
    ) async throws -> Reply? {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try WireJSON.encoder().encode(body)))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        guard (200..<300).contains(response.status.code) else {
            _ = try Self.decode(status: Int(response.status.code), bytes)
            return nil
        }
        if response.status.code == 204 || bytes.readableBytes == 0 { return nil }
        return try WireJSON.decoder().decode(Reply.self, from: Data(bytes.readableBytesView))
    }

    func required<Reply>(_ reply: Reply?) throws -> Reply {
        guard let reply else { throw APIError(status: 204, code: "empty_reply", message: "The server answered with no body") }
        return reply
    }

    static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}

extension APIClient {
    /// Streams a built image to the server under the task's lease; the server inspects it like any upload and
    /// answers with the image record it became.
    public func uploadArtifact(lease: Lease, path: String, fileName: String, sha256: String) async throws -> ArtifactReceipt {
        let file = try LocalFile(path: path)
        let headers = lease.headers + [
            ("Content-Type", "application/octet-stream"), ("X-Arrow-Artifact-SHA256", sha256), ("X-Arrow-Artifact-Name", fileName),
        ]
        let answer = try await stream(.PUT, url: baseURL + "/api/vm-build/tasks/\(Self.segment(lease.taskID))/artifact", headers: headers,
                                      body: file.chunks(), length: file.size, authorized: true)
        let data = try JSONSerialization.data(withJSONObject: answer ?? [:])
        return try WireJSON.decoder().decode(ArtifactReceipt.self, from: data)
    }
}

extension APIClient {
    /// Downloads an image's bytes (through the presigned URL the API redirects to) into `path`; returns the size.
    public func downloadImage(id: String, to path: String, progress: (@Sendable (Int64, Int64?) -> Void)? = nil) async throws -> Int64 {
        var request = HTTPClientRequest(url: baseURL + "/api/vm_images/\(Self.segment(id))/download")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await http.execute(request, timeout: .hours(6))
        guard (200..<300).contains(response.status.code) else {
            _ = try Self.decode(status: Int(response.status.code), try await response.body.collect(upTo: 1 << 20))
            throw APIError(status: Int(response.status.code), code: "http_\(response.status.code)", message: "download failed")
        }
        let total = response.headers.first(name: "Content-Length").flatMap(Int64.init)
        guard FileManager.default.createFile(atPath: path + ".part", contents: nil) else {
            throw LocalFileError(message: "cannot write \(path)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path + ".part"))
        var written: Int64 = 0
        do {
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(chunk.readableBytesView))
                written += Int64(chunk.readableBytes)
                progress?(written, total)
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path + ".part")
            throw error
        }
        guard rename(path + ".part", path) == 0 else { throw LocalFileError(message: "cannot write \(path)") }
        return written
    }
}
