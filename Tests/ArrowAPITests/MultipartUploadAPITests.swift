import ArrowApp
import ArrowCore
import ArrowRegistry
import ArrowTesting
import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The resumable multipart path (`/api/vm_images/upload/sign`, `/complete`), on the local store and on S3 (moto),
/// with the client PUTting parts to the presigned URLs exactly as a browser or `curl -T` would.
@Suite struct MultipartUploadAPITests {
    struct Setup: Sendable, CustomStringConvertible {
        var database: TestBackend
        var storage: StorageBackend
        var description: String { "\(database)+\(storage)" }
    }

    static let setups = [Setup(database: .sqlite, storage: .local), Setup(database: .postgres, storage: .local), Setup(database: .sqlite, storage: .s3)]

    /// Runs `body` on an app over `setup`'s database and store, with a handle on that store to look into.
    static func withApp(
        _ setup: Setup, configure: @escaping (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (any TestClientProtocol, Seed, any BlobStore) async throws -> Void
    ) async throws {
        let directory = try TestPaths.temporaryDirectory()
        var config = AppConfiguration()
        config.dataDirectory = directory
        if setup.storage == .s3 { config.s3 = try StorageBackend.s3Configuration(endpointVariable: "ARROW_TEST_S3_PRESIGN_ENDPOINT") }
        let store = try Backends.openStorage(config, logger: Logger(label: "test")).0
        try await Harness.withApp(setup.database, configure: { config in
            config.dataDirectory = directory
            if setup.storage == .s3 { config.s3 = try? StorageBackend.s3Configuration(endpointVariable: "ARROW_TEST_S3_PRESIGN_ENDPOINT") }
            configure(&config)
        }) { client, seed in try await body(client, seed, store) }
    }

    /// A qcow2 of `size` bytes: three 8 MiB parts at 17 MiB.
    static func qcow2(size: Int = 17 << 20) throws -> [UInt8] { try ImageFixtures.qcow2(padTo: size) }

    static func sign(_ client: any TestClientProtocol, token: String, _ body: [String: Any]) async throws -> TestResponse {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await client.send(.post, "/api/vm_images/upload/sign", token: token, json: json)
    }

    static func complete(_ client: any TestClientProtocol, token: String, _ id: String, sha256: String? = nil) async throws -> TestResponse {
        var body: [String: Any] = ["upload_id": id]
        if let sha256 { body["sha256"] = sha256 }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await client.send(.post, "/api/vm_images/upload/complete", token: token, json: json)
    }

    /// PUTs one part's bytes to its presigned URL: through the app for the local store, over HTTP to moto for S3.
    /// Returns the HTTP status.
    static func put(_ part: [String: Any], _ bytes: ArraySlice<UInt8>, client: any TestClientProtocol) async throws -> Int {
        let url = try #require(part["url"] as? String)
        let signed = (part["headers"] as? [String: String]) ?? [:]
        if let start = url.range(of: "/api/storage/") {
            var headers = HTTPFields()
            for (name, value) in signed { headers[HTTPField.Name(name)!] = value }
            let response = try await client.execute(uri: String(url[start.lowerBound...]), method: .put, headers: headers, body: ByteBuffer(bytes: bytes))
            return Int(response.status.code)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    static func parts(_ session: [String: Any], _ key: String = "parts") -> [[String: Any]] {
        (session[key] as? [[String: Any]]) ?? []
    }

    static func slice(_ bytes: [UInt8], part: [String: Any], partSize: Int) -> ArraySlice<UInt8> {
        let number = part["part_number"] as! Int
        let start = (number - 1) * partSize
        return bytes[start..<min(start + partSize, bytes.count)]
    }

    @Test(arguments: setups)
    func anInterruptedUploadResumesAndActivates(_ setup: Setup) async throws {
        let bytes = try Self.qcow2()
        try await Self.withApp(setup) { client, seed, store in
            let started = try await Self.sign(client, token: seed.alphaAdmin, [
                "file_name": "disk.qcow2", "file_size": bytes.count, "name": "Big base",
                "software": [["name": "nmap", "version": "latest", "ansible_role": "security-tools"]], "ansible_flags": ["harden_ssh"],
            ])
            #expect(started.status == .created, "\(started.text)")
            let session = try started.json()
            let id = try #require(session["upload_id"] as? String)
            let partSize = try #require(session["part_size"] as? Int)
            #expect(partSize == 8 << 20)
            #expect(session["part_count"] as? Int == 3)
            // The local store hashes parts as they arrive in order, so it asks for one at a time; S3 takes several.
            #expect(session["parallel_parts"] as? Int == (setup.storage == .local ? 1 : 4))
            let signed = Self.parts(session)
            #expect(signed.map { $0["part_number"] as? Int } == [1, 2, 3])
            let sizes: [Int?] = signed.map { $0["size"] as? Int }
            #expect(sizes == [8 << 20, 8 << 20, 1 << 20])

            // The connection drops after parts 1 and 3.
            for part in [signed[0], signed[2]] {
                #expect(try await Self.put(part, Self.slice(bytes, part: part, partSize: partSize), client: client) == 200)
            }
            let early = try await Self.complete(client, token: seed.alphaAdmin, id)
            #expect(early.status == .conflict)
            #expect(early.errorCode == "parts_missing")
            #expect((try early.json()["error"] as? [String: Any])?["message"].map { "\($0)" }?.contains("2") == true)

            // Resume: the session lists what is stored, and signing again covers only what is missing.
            let status = try await client.send(.get, "/api/vm_images/upload/\(id)", token: seed.alphaAdmin).json()
            #expect(status["status"] as? String == "open")
            #expect(Self.parts(status, "uploaded_parts").map { $0["part_number"] as? Int } == [1, 3])
            let resumed = try await Self.sign(client, token: seed.alphaAdmin, ["upload_id": id])
            #expect(resumed.status == .ok, "\(resumed.text)")
            let missing = Self.parts(try resumed.json())
            #expect(missing.map { $0["part_number"] as? Int } == [2])
            #expect(try await Self.put(missing[0], Self.slice(bytes, part: missing[0], partSize: partSize), client: client) == 200)

            let sha256 = ImageUploadAPITests.hex(bytes)
            let completed = try await Self.complete(client, token: seed.alphaAdmin, id, sha256: sha256)
            #expect(completed.status == .created, "\(completed.text)")
            let image = try completed.json()
            let imageID = try #require(image["id"] as? String)
            #expect(imageID == session["image_id"] as? String)
            #expect(image["status"] as? String == "active")
            #expect(image["format"] as? String == "qcow2")
            #expect(image["virtual_size"] as? Int == 64 << 20)
            #expect(image["file_size"] as? Int == bytes.count)
            #expect(image["sha256"] as? String == sha256)
            #expect(image["name"] as? String == "Big base")
            #expect((image["ansible_flags"] as? [String: Bool])?["harden_ssh"] == true)
            #expect(try await store.read(try BlobKey("images/\(imageID)/disk.qcow2")) == bytes)
            let listed = try await client.send(.get, "/api/vm_images", token: seed.alphaMember).json()
            #expect(Self.parts(listed, "items").contains { $0["id"] as? String == imageID })

            let again = try await Self.complete(client, token: seed.alphaAdmin, id)
            #expect(again.errorCode == "upload_not_open")
            let done = try await client.send(.get, "/api/vm_images/upload/\(id)", token: seed.alphaAdmin).json()
            #expect(done["status"] as? String == "completed")
        }
    }

    @Test(arguments: setups)
    func aRejectedUploadLeavesNothing(_ setup: Setup) async throws {
        // A backing file pointing at a host path, padded to two parts.
        var hostile = try Self.qcow2(size: 9 << 20)
        let path = Array("/etc/shadow".utf8)
        hostile.replaceSubrange(4096..<(4096 + path.count), with: path)
        for (index, byte) in [0, 0, 0, 0, 0, 0, 0x10, 0].enumerated() { hostile[8 + index] = UInt8(byte) }
        hostile[16...19] = [0, 0, 0, UInt8(path.count)]
        let evil = hostile
        try await Self.withApp(setup) { client, seed, store in
            for (file, bytes, expected, sha256) in [
                ("evil.qcow2", evil, "image_rejected", nil), ("disk.qcow2", try Self.qcow2(size: 9 << 20), "checksum_mismatch", String(repeating: "a", count: 64)),
            ] {
                let session = try await Self.sign(client, token: seed.alphaAdmin, ["file_name": file, "file_size": bytes.count, "name": "x"]).json()
                let id = try #require(session["upload_id"] as? String)
                let imageID = try #require(session["image_id"] as? String)
                for part in Self.parts(session) {
                    #expect(try await Self.put(part, Self.slice(bytes, part: part, partSize: session["part_size"] as! Int), client: client) == 200)
                }
                let response = try await Self.complete(client, token: seed.alphaAdmin, id, sha256: sha256)
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.errorCode == expected)
                if expected == "image_rejected" {
                    let error = try #require(try response.json()["error"] as? [String: Any])
                    #expect((error["violations"] as? [[String: String]])?.map { $0["check"] } == ["backing_file"])
                }
                #expect(try await store.list(prefix: "images/\(imageID)/").isEmpty)
                #expect(try await client.send(.get, "/api/vm_images/\(imageID)", token: seed.alphaAdmin).status == .notFound)
                let status = try await client.send(.get, "/api/vm_images/upload/\(id)", token: seed.alphaAdmin).json()
                #expect(status["status"] as? String == "rejected")
            }
            let uploading = try await client.send(.get, "/api/vm_images?status=uploading", token: seed.alphaAdmin).json()
            #expect(Self.parts(uploading, "items").isEmpty)
        }
    }

    @Test(arguments: setups)
    func limitsFieldsAndPermissions(_ setup: Setup) async throws {
        try await Self.withApp(setup, configure: { $0.uploadLimits.multipart = (1 << 20)...(20 << 20) }) { client, seed, _ in
            let cases: [([String: Any], Int, String)] = [
                (["file_name": "d.qcow2", "file_size": (20 << 20) + 1, "name": "x"], 413, "file_too_large"),
                (["file_name": "d.qcow2", "file_size": 1000, "name": "x"], 422, "file_too_small"),
                (["file_name": "d.qcow2", "name": "x"], 422, "file_size_required"),
                (["file_size": 2 << 20, "name": "x"], 422, "file_name_required"),
                (["file_name": "d.qcow2", "file_size": 2 << 20], 422, "invalid_name"),
                (["file_name": "d.qcow2", "file_size": 2 << 20, "name": "x", "ansible_flags": ["make_coffee"]], 422, "unknown_ansible_flag"),
                (["file_name": "d.qcow2", "file_size": 2 << 20, "name": "x", "software": [["name": "a"]]], 422, "invalid_software"),
                (["file_name": "d.qcow2", "file_size": 2 << 20, "name": "x", "sha256": "abc"], 422, "invalid_sha256"),
                (["file_name": "d.qcow2", "file_size": 2 << 20, "name": "x", "colour": "blue"], 422, "unknown_field"),
                (["upload_id": "nope"], 404, "not_found"),
            ]
            for (body, status, code) in cases {
                let response = try await Self.sign(client, token: seed.alphaAdmin, body)
                #expect(Int(response.status.code) == status, "\(body): \(response.text)")
                #expect(response.errorCode == code, "\(body): \(response.text)")
            }
            let valid: [String: Any] = ["file_name": "d.raw", "file_size": 2 << 20, "name": "x"]
            #expect(try await Self.sign(client, token: seed.alphaMember, valid).status == .forbidden)
            #expect(try await Self.sign(client, token: seed.builder, valid).status == .forbidden)

            // Another organization's session is invisible, whatever the endpoint.
            #expect(try await Self.sign(client, token: seed.alphaAdmin, ["upload_id": seed.betaUploadID]).status == .notFound)
            #expect(try await Self.complete(client, token: seed.alphaAdmin, seed.betaUploadID).status == .notFound)
            #expect(try await client.send(.delete, "/api/vm_images/upload/\(seed.betaUploadID)", token: seed.alphaAdmin).status == .notFound)

            // A part URL binds its length: a longer body is refused, and the part is not stored.
            let session = try await Self.sign(client, token: seed.alphaAdmin, valid).json()
            let id = try #require(session["upload_id"] as? String)
            let part = try #require(Self.parts(session).first)
            if setup.storage == .local {
                #expect(try await Self.put(part, ArraySlice(ImageFixtures.raw((2 << 20) + 1)), client: client) == 400)
                let status = try await client.send(.get, "/api/vm_images/upload/\(id)", token: seed.alphaAdmin).json()
                #expect(Self.parts(status, "uploaded_parts").isEmpty)
            }
            let bad = try await Self.sign(client, token: seed.alphaAdmin, ["upload_id": id, "part_numbers": [2]])
            #expect(bad.errorCode == "invalid_part_number")

            // Abort discards the session; it cannot be completed or signed afterwards.
            #expect(try await client.send(.delete, "/api/vm_images/upload/\(id)", token: seed.alphaAdmin).status == .noContent)
            #expect(try await Self.complete(client, token: seed.alphaAdmin, id).errorCode == "upload_not_open")
            #expect(try await Self.sign(client, token: seed.alphaAdmin, ["upload_id": id]).errorCode == "upload_not_open")
        }
    }

    /// The single upload on S3: the object streams to the bucket; a rejected one leaves nothing there.
    @Test func singleUploadOnS3() async throws {
        let bytes = try ImageFixtures.qcow2()
        try await Self.withApp(Setup(database: .sqlite, storage: .s3)) { client, seed, store in
            let created = try await client.upload(bytes, as: "disk.qcow2", token: seed.alphaAdmin)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(try created.json()["id"] as? String)
            #expect(try await store.read(try BlobKey("images/\(id)/disk.qcow2")) == bytes)
            let rejected = try await client.upload(bytes, as: "disk.vhd", token: seed.alphaAdmin)
            #expect(rejected.errorCode == "image_rejected")
            // The bucket is shared with suites running alongside: look for this file name only.
            #expect(try await store.list(prefix: "images/").filter { $0.key.rawValue.hasSuffix("/disk.vhd") }.isEmpty)
            #expect(try await client.send(.delete, "/api/vm_images/\(id)", token: seed.alphaAdmin).status == .noContent)
            #expect(try await store.head(try BlobKey("images/\(id)/disk.qcow2")) == nil)
        }
    }

    /// Starting a session takes a slot of the same hourly limit as a single upload.
    @Test func signingCountsAgainstTheUploadRateLimit() async throws {
        try await Self.withApp(Setup(database: .sqlite, storage: .local), configure: { $0.uploadLimits.uploadsPerHour = 2 }) { client, seed, _ in
            let body: [String: Any] = ["file_name": "d.raw", "file_size": 2 << 20, "name": "x"]
            #expect(try await client.upload(ImageFixtures.raw(2 << 20), as: "one.raw", token: seed.alphaAdmin).status == .created)
            #expect(try await Self.sign(client, token: seed.alphaAdmin, body).status == .created)
            let limited = try await Self.sign(client, token: seed.alphaAdmin, body)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "upload_rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
        }
    }
}
