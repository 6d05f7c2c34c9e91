import ArrowApp
import ArrowCore
import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Thumbnails and metadata documents: 1 KiB to 10 MiB, checked by content, stored under `metadata/`.
@Suite struct MetadataFileAPITests {
    static func png(width: UInt32 = 64, height: UInt32 = 64) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for value in [width, height] { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
        bytes += [8, 6, 0, 0, 0, 0, 0, 0, 0]
        return bytes + [UInt8](repeating: 0, count: 2048)
    }

    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0x11, count: 2048) + [0xFF, 0xD9]

    static var webp: [UInt8] {
        let payload = Array("WEBPVP8 ".utf8) + [UInt8](repeating: 0, count: 2048)
        return Array("RIFF".utf8) + withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init) + payload
    }

    static func document(_ text: String) -> [UInt8] {
        Array(text.utf8) + Array(String(repeating: " ", count: max(0, 1100 - text.utf8.count)).utf8)
    }

    static func add(_ client: any TestClientProtocol, image: String, _ bytes: [UInt8], as name: String, token: String) async throws -> TestResponse {
        let form = ImageFixtures.Form(file: (name, bytes, "application/octet-stream"))
        return try await client.execute(uri: "/api/vm_images/\(image)/metadata_files", method: .post,
                                        headers: [.contentType: "multipart/form-data; boundary=\(form.boundary)", .authorization: "Bearer \(token)"],
                                        body: form.body)
    }

    @Test(arguments: TestBackend.allCases)
    func filesAreCheckedStoredListedAndRemoved(_ backend: TestBackend) async throws {
        let (directory, store) = try ImageUploadAPITests.storage()
        try await Harness.withApp(backend, configure: { $0.dataDirectory = directory }) { client, seed in
            let image = seed.betaImageID
            let accepted: [([UInt8], String, String, String)] = [
                (Self.png(), "thumb.png", "thumbnail", "image/png"),
                (Self.jpeg, "thumb.jpg", "thumbnail", "image/jpeg"),
                (Self.webp, "thumb.webp", "thumbnail", "image/webp"),
                (Self.document(#"{"os":"debian","release":12}"#), "about.json", "document", "application/json"),
                (Self.document("os: debian\nrelease: 12\n"), "about.yaml", "document", "application/yaml"),
            ]
            var ids: [String] = []
            for (bytes, name, kind, type) in accepted {
                let response = try await Self.add(client, image: image, bytes, as: name, token: seed.betaAdmin)
                #expect(response.status == .created, "\(name): \(response.text)")
                let file = try response.json()
                #expect(file["kind"] as? String == kind)
                #expect(file["content_type"] as? String == type)
                #expect(file["file_size"] as? Int == bytes.count)
                let key = try #require(file["b2_file_id"] as? String)
                #expect(key.hasPrefix("metadata/\(image)/"))
                #expect(try await store.read(try BlobKey(key)) == bytes)
                ids.append(try #require(file["id"] as? String))
            }

            let refused: [([UInt8], String, String)] = [
                (Self.png(width: 0), "bad.png", "invalid_metadata_file"),
                (Array(Self.jpeg.dropLast(2)) + [0, 0], "cut.jpg", "invalid_metadata_file"),
                (Array(Self.webp.dropLast(10)), "cut.webp", "invalid_metadata_file"),
                (Self.document(#"{"os": "#), "broken.json", "invalid_metadata_file"),
                (Self.document(#""just a string""#), "scalar.json", "invalid_metadata_file"),
                (Self.document("a: [1, 2\n"), "broken.yaml", "invalid_metadata_file"),
                (Self.document("just text"), "notes.txt", "unsupported_metadata_file"),
                (Array(Self.png().prefix(500)), "small.png", "file_too_small"),
                (Self.png() + [UInt8](repeating: 0, count: 10 << 20), "huge.png", "file_too_large"),
            ]
            for (bytes, name, code) in refused {
                let response = try await Self.add(client, image: image, bytes, as: name, token: seed.betaAdmin)
                #expect(response.errorCode == code, "\(name): \(response.text)")
            }
            #expect(try await store.list(prefix: "metadata/").count == accepted.count)

            // Members read, never write; other organizations see nothing.
            #expect(try await Self.add(client, image: image, Self.png(), as: "m.png", token: seed.betaMember).status == .forbidden)
            #expect(try await Self.add(client, image: image, Self.png(), as: "a.png", token: seed.alphaAdmin).status == .notFound)
            let listed = try await client.send(.get, "/api/vm_images/\(image)/metadata_files", token: seed.betaMember).json()
            #expect((listed["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ids)
            #expect(try await client.send(.get, "/api/vm_images/\(image)/metadata_files", token: seed.alphaAdmin).status == .notFound)
            let download = try await client.send(.get, "/api/vm_images/\(image)/metadata_files/\(ids[0])", token: seed.betaMember)
            #expect(download.status == .found)
            let location = try #require(download.headers[.location])
            let path = String(location[try #require(location.range(of: "/api/storage/")).lowerBound...])
            #expect(Array(try await client.send(.get, path).body.readableBytesView) == Self.png())

            #expect(try await client.send(.delete, "/api/vm_images/\(image)/metadata_files/\(ids[0])", token: seed.betaMember).status == .forbidden)
            #expect(try await client.send(.delete, "/api/vm_images/\(image)/metadata_files/\(ids[0])", token: seed.betaAdmin).status == .noContent)
            #expect(try await client.send(.get, "/api/vm_images/\(image)/metadata_files/\(ids[0])", token: seed.betaAdmin).status == .notFound)
            #expect(try await store.list(prefix: "metadata/").count == accepted.count - 1)

            // Deleting the image takes its metadata files' bytes with it.
            #expect(try await client.send(.delete, "/api/vm_images/\(image)", token: seed.betaAdmin).status == .noContent)
            #expect(try await store.list(prefix: "metadata/").isEmpty)
        }
    }
}
