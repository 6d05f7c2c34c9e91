import ArrowCore
import ArrowStorage
import ArrowTesting
import Foundation
import Testing

/// Presigned URLs used the way clients use them: plain `curl -T` and `curl`, no credentials.
@Suite(.serialized) struct PresignedURLTests {
    /// Runs curl; returns the HTTP status.
    static func curl(_ arguments: [String], output: String = "/dev/null") throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", output, "-w", "%{http_code}"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self)) ?? -1
    }

    /// Downloads `url` with plain curl and checks the status and the bytes.
    static func expectDownload(_ url: String, equals bytes: [UInt8]) throws {
        let downloaded = try TestPaths.temporaryDirectory() + "/down.bin"
        #expect(try curl([url], output: downloaded) == 200)
        let same = FileManager.default.contents(atPath: downloaded).map([UInt8].init) == bytes
        #expect(same, "downloaded bytes differ")
    }

    static func file(_ bytes: [UInt8]) throws -> String {
        let path = try TestPaths.temporaryDirectory() + "/upload.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func localStoreURLsWorkWithCurlAndRefuseTampering() async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        let port = HTTP.freePort()
        let server = try ArrowProcess(["serve", "--port", String(port), "--data-dir", dataDir])
        defer { _ = try? server.terminate() }
        #expect(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))
        // The same data directory, hence the same presign secret, as the server.
        let store = try LocalBlobStore(root: dataDir + "/storage", baseURL: "http://127.0.0.1:\(port)",
                                       secret: try LocalPresigner.loadOrCreateSecret(in: dataDir))
        let bytes = testBytes(3 << 20 | 77)
        let path = try Self.file(bytes)
        let key = try BlobKey("images/i1/debian 12 (x)+.qcow2")

        // The only presigned write: a part of an open multipart upload.
        let upload = try await store.createMultipartUpload(key)
        let put = try store.presignUploadPart(upload, number: 1, expiresIn: 60, contentLength: Int64(bytes.count))
        #expect(try Self.curl(["-T", path, put.url]) == 200)
        #expect(try await store.listParts(upload).map(\.size) == [Int64(bytes.count)])

        // Altered: another upload, a longer expiry, a different length, a flipped signature — all refused.
        let other = put.url.replacingOccurrences(of: upload.uploadID, with: String(upload.uploadID.reversed()))
        #expect(try Self.curl(["-T", path, other]) == 403)
        let expires = put.url.components(separatedBy: "expires=")[1].prefix(while: \.isNumber)
        #expect(try Self.curl(["-T", path, put.url.replacingOccurrences(of: "expires=\(expires)", with: "expires=\(Int(expires)! + 1000)")]) == 403)
        let shorter = try Self.file(Array(bytes.prefix(100)))
        #expect(try Self.curl(["-T", shorter, put.url]) == 400)
        let flipped = String(put.url.dropLast()) + (put.url.hasSuffix("0") ? "1" : "0")
        #expect(try Self.curl(["-T", path, flipped]) == 403)
        // Expired.
        let short = try store.presignUploadPart(upload, number: 2, expiresIn: 1, contentLength: 3)
        try await Task.sleep(for: .milliseconds(2100))
        #expect(try Self.curl(["-T", try Self.file([1, 2, 3]), short.url]) == 403)
        #expect(try await store.listParts(upload).map(\.number) == [1])

        try await store.completeMultipartUpload(upload, parts: try await store.listParts(upload))
        let stored = try await store.read(key)
        #expect(stored == bytes, "stored bytes differ")
        let get = try store.presignGet(key, expiresIn: 60)
        try Self.expectDownload(get.url, equals: bytes)
        #expect(try Self.curl(["-H", "Range: bytes=10-19", get.url]) == 206)

        // Once completed, the part URL writes nothing, and no URL names an object to write: the bytes stay.
        #expect(try Self.curl(["-T", path, put.url]) == 404)
        #expect(try Self.curl(["-X", "PUT", "-T", path, get.url]) >= 400)
        let still = try await store.read(key)
        #expect(still == bytes, "an object changed after it was stored")
    }

    @Test func s3URLsWorkWithCurl() async throws {
        let store = try StorageBackend.presignStore()
        let bytes = testBytes(1 << 20 | 5)
        let path = try Self.file(bytes)
        let key = try BlobKey("presign-\(UUID().uuidString.prefix(8))/disk image+$é.qcow2")
        let upload = try await store.createMultipartUpload(key)
        let put = try store.presignUploadPart(upload, number: 1, expiresIn: 60, contentLength: Int64(bytes.count))
        #expect(put.url.contains("X-Amz-Signature="))
        #expect(try Self.curl(["-T", path, put.url]) == 200)
        try await store.completeMultipartUpload(upload, parts: try await store.listParts(upload))
        let stored = try await store.read(key)
        #expect(stored == bytes, "stored bytes differ")
        let get = try store.presignGet(key, expiresIn: 60)
        try Self.expectDownload(get.url, equals: bytes)
        // The completed upload's part URL cannot change the object (S3 answers NoSuchUpload; this moto, which runs
        // without auth to serve presigned URLs, stores the part and discards it).
        _ = try Self.curl(["-T", try Self.file(testBytes(1 << 20 | 5, seed: 9)), put.url])
        #expect(try await store.read(key) == bytes)
    }
}
