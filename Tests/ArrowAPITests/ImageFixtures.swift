import ArrowTesting
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Images for upload tests, made with qemu-img, and multipart/form-data bodies that carry them.
enum ImageFixtures {
    static func qemuImage(_ format: String, size: String = "64M") throws -> [UInt8] {
        let directory = try TestImages.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        return [UInt8](try Data(contentsOf: try TestImages.qemuImage("disk", format: format, size: size, in: directory)))
    }

    /// A qcow2 padded past the 1 MiB minimum (qemu ignores bytes after its last cluster).
    static func qcow2(padTo size: Int = (1 << 20) + 4096) throws -> [UInt8] {
        var bytes = try qemuImage("qcow2")
        if bytes.count < size { bytes += [UInt8](repeating: 0, count: size - bytes.count) }
        return bytes
    }

    /// Lower-case hex SHA-256.
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// A raw disk of `size` bytes with a recognisable pattern.
    static func raw(_ size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 12)) }
    }

    struct Form {
        var fields: [(String, String)] = []
        var file: (name: String, bytes: [UInt8], type: String)?
        var after: [(String, String)] = []
        let boundary = "arrow-boundary-\(UUID().uuidString.prefix(8))"

        var body: ByteBuffer {
            var buffer = ByteBuffer()
            func field(_ name: String, _ value: String) {
                buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
            }
            for (name, value) in fields { field(name, value) }
            if let file {
                buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\n")
                buffer.writeString("Content-Type: \(file.type)\r\n\r\n")
                buffer.writeBytes(file.bytes)
                buffer.writeString("\r\n")
            }
            for (name, value) in after { field(name, value) }
            buffer.writeString("--\(boundary)--\r\n")
            return buffer
        }
    }
}

extension TestClientProtocol {
    func upload(_ form: ImageFixtures.Form, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(form.boundary)"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/api/vm_images/upload", method: .post, headers: headers, body: form.body)
    }

    /// Uploads `bytes` as `fileName` with a name; returns the response.
    func upload(_ bytes: [UInt8], as fileName: String, name: String = "Test image", token: String?, extra: [(String, String)] = []) async throws -> TestResponse {
        try await upload(ImageFixtures.Form(fields: [("name", name)] + extra, file: (fileName, bytes, "application/octet-stream")), token: token)
    }
}
