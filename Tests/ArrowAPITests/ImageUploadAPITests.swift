import ArrowApp
import ArrowCore
import ArrowRegistry
import ArrowTesting
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// `POST /api/vm_images/upload` and the image endpoints, on SQLite and PostgreSQL with the local store.
@Suite struct ImageUploadAPITests {
    /// A data directory the test can look into, and the store over it.
    static func storage() throws -> (String, any BlobStore) {
        let directory = try TestPaths.temporaryDirectory()
        var config = AppConfiguration()
        config.dataDirectory = directory
        return (directory, try Backends.openStorage(config, logger: Logger(label: "test")).0)
    }

    /// Image objects in storage other than the seed's own image of organization B.
    static func uploaded(_ store: any BlobStore, _ seed: Seed) async throws -> [String] {
        try await store.list(prefix: "images/").map { "\($0.key)" }.filter { !$0.hasPrefix("images/\(seed.betaImageID)/") }
    }

    static func hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: TestBackend.allCases)
    func uploadActivatesAndServesTheImage(_ backend: TestBackend) async throws {
        let (directory, store) = try Self.storage()
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend, configure: { $0.dataDirectory = directory }) { client, seed in
            let flags = #"["install_vpn","harden_ssh"]"#
            let software = #"[{"name":"nmap","version":"latest","ansible_role":"security-tools"}]"#
            let response = try await client.upload(bytes, as: "disk.qcow2", name: "Debian base", token: seed.alphaAdmin, extra: [
                ("description", "base image"), ("software", software), ("ansible_flags", flags),
            ])
            #expect(response.status == .created, "\(response.text)")
            let image = try response.json()
            let id = try #require(image["id"] as? String)
            #expect(image["name"] as? String == "Debian base")
            #expect(image["file_name"] as? String == "disk.qcow2")
            #expect(image["file_size"] as? Int == bytes.count)
            #expect(image["file_type"] as? String == "application/x-qemu-disk")
            #expect(image["format"] as? String == "qcow2")
            #expect(image["virtual_size"] as? Int == 64 << 20)
            #expect(image["sha256"] as? String == Self.hex(bytes))
            #expect(image["status"] as? String == "active")
            #expect(image["organization"] as? String == seed.alpha.id.rawValue)
            #expect(image["b2_file_id"] as? String == "images/\(id)/disk.qcow2")
            #expect((image["ansible_flags"] as? [String: Bool]) == [
                "install_vpn": true, "harden_ssh": true, "install_monitoring": false, "apply_branding": false,
            ])
            #expect(((image["software"] as? [[String: String]])?.first)?["ansible_role"] == "security-tools")
            #expect(try await store.read(try BlobKey("images/\(id)/disk.qcow2")) == bytes)

            let listed = try await client.send(.get, "/api/vm_images", token: seed.alphaMember).json()
            #expect((listed["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect(try await client.send(.get, "/api/vm_images/\(id)", token: seed.alphaMember).status == .ok)
            let isos = try await client.send(.get, "/api/vm_images?format=iso", token: seed.alphaMember).json()
            #expect((isos["items"] as? [Any])?.isEmpty == true)
            let filtered = try await client.send(.get, "/api/vm_images?q=DEBIAN", token: seed.alphaMember).json()
            #expect((filtered["items"] as? [Any])?.count == 1)

            // Download: a redirect to a short-lived signed URL on this server, which honours Range.
            let download = try await client.send(.get, "/api/vm_images/\(id)/download", token: seed.alphaMember)
            #expect(download.status == .found)
            let location = try #require(download.headers[.location])
            let start = try #require(location.range(of: "/api/storage/"))
            let path = String(location[start.lowerBound...])
            let ranged = try await client.send(.get, path, headers: [.range: "bytes=0-3"])
            #expect(ranged.status == .partialContent)
            #expect(Array(ranged.body.readableBytesView) == Array(bytes[0..<4]))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func rejectedUploadNamesTheCheckAndLeavesNothing(_ backend: TestBackend) async throws {
        let (directory, store) = try Self.storage()
        let base = try ImageFixtures.qcow2()
        // A backing file pointing at a host path: the CVE-2015-5163 shape.
        var hostile = base
        let path = Array("/etc/shadow".utf8)
        hostile.replaceSubrange(4096..<(4096 + path.count), with: path)
        for (index, byte) in [0, 0, 0, 0, 0, 0, 0x10, 0].enumerated() { hostile[8 + index] = UInt8(byte) }
        hostile[16...19] = [0, 0, 0, UInt8(path.count)]
        let evil = hostile
        try await Harness.withApp(backend, configure: { $0.dataDirectory = directory }) { client, seed in
            let response = try await client.upload(evil, as: "evil.qcow2", token: seed.alphaAdmin)
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "image_rejected")
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect((error["violations"] as? [[String: String]])?.map { $0["check"] } == ["backing_file"])
            #expect((error["message"] as? String)?.contains("backing_file") == true)

            let mismatch = try await client.upload(base, as: "disk.vmdk", token: seed.alphaAdmin)
            #expect(mismatch.errorCode == "image_rejected")
            let small = try await client.upload(Array(base.prefix(200_000)), as: "disk.qcow2", token: seed.alphaAdmin)
            #expect(small.errorCode == "file_too_small")
            let checksum = try await client.upload(ImageFixtures.Form(
                fields: [("name", "x")], file: ("disk.qcow2", base, "application/octet-stream"), after: [("sha256", String(repeating: "0", count: 64))]),
                token: seed.alphaAdmin)
            #expect(checksum.errorCode == "checksum_mismatch")
            #expect(try await Self.uploaded(store, seed).isEmpty)
            let all = try await client.send(.get, "/api/vm_images?status=uploading", token: seed.alphaAdmin).json()
            #expect((all["items"] as? [Any])?.isEmpty == true)
            let audit = try await client.send(.get, "/api/audit", token: seed.alphaAdmin).text
            #expect(audit.contains("image.rejected"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func metadataIsValidated(_ backend: TestBackend) async throws {
        let (directory, store) = try Self.storage()
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend, configure: { $0.dataDirectory = directory }) { client, seed in
            let cases: [([(String, String)], String)] = [
                ([("ansible_flags", #"["install_vpn","make_coffee"]"#)], "unknown_ansible_flag"),
                ([("ansible_flags", #"{"apply_branding":"yes"}"#)], "invalid_ansible_flags"),
                ([("software", #"[{"name":"nmap","version":"1"}]"#)], "invalid_software"),
                ([("software", #"[{"name":"nmap","version":"1","ansible_role":"r","extra":1}]"#)], "invalid_software"),
                ([("software", #"[{"name":"nm ap","version":"1","ansible_role":"r"}]"#)], "invalid_software"),
                ([("colour", "blue")], "unknown_field"),
            ]
            for (extra, code) in cases {
                let response = try await client.upload(bytes, as: "disk.qcow2", token: seed.alphaAdmin, extra: extra)
                #expect(response.status == .unprocessableContent, "\(extra)")
                #expect(response.errorCode == code, "\(extra): \(response.text)")
            }
            let unnamed = try await client.upload(ImageFixtures.Form(file: ("disk.qcow2", bytes, "application/octet-stream")), token: seed.alphaAdmin)
            #expect(unnamed.errorCode == "invalid_name")
            let noFile = try await client.upload(ImageFixtures.Form(fields: [("name", "x")]), token: seed.alphaAdmin)
            #expect(noFile.errorCode == "file_required")
            let notMultipart = try await client.send(.post, "/api/vm_images/upload", token: seed.alphaAdmin, json: "{}")
            #expect(notMultipart.status == .unsupportedMediaType)
            #expect(try await Self.uploaded(store, seed).isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sizeLimitAnswers413(_ backend: TestBackend) async throws {
        let (directory, store) = try Self.storage()
        try await Harness.withApp(backend, configure: {
            $0.dataDirectory = directory
            $0.uploadLimits.single = (1 << 20)...(3 << 20)
        }) { client, seed in
            let response = try await client.upload(ImageFixtures.raw(5 << 20), as: "big.raw", token: seed.alphaAdmin)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "file_too_large")
            #expect(try await Self.uploaded(store, seed).isEmpty)
            #expect(try await client.upload(ImageFixtures.raw(2 << 20), as: "ok.raw", token: seed.alphaAdmin).status == .created)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func onlyAdminsUploadAndOrganizationsAreIsolated(_ backend: TestBackend) async throws {
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend) { client, seed in
            #expect(try await client.upload(bytes, as: "d.qcow2", token: nil).status == .unauthorized)
            #expect(try await client.upload(bytes, as: "d.qcow2", token: seed.alphaMember).status == .forbidden)
            #expect(try await client.upload(bytes, as: "d.qcow2", token: seed.builder).status == .forbidden)
            let created = try await client.upload(bytes, as: "d.qcow2", token: seed.alphaAdmin)
            let id = try #require(try created.json()["id"] as? String)
            #expect(try await client.upload(bytes, as: "root.qcow2", token: seed.superuser).status == .created)

            for (method, path) in [(HTTPRequest.Method.get, ""), (.get, "/download"), (.get, "/versions"), (.delete, "")] {
                let response = try await client.send(method, "/api/vm_images/\(id)\(path)", token: seed.betaAdmin)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            let patch = try await client.send(.patch, "/api/vm_images/\(id)", token: seed.betaAdmin, json: #"{"name":"mine"}"#)
            #expect(patch.status == .notFound)
            let betaList = try await client.send(.get, "/api/vm_images", token: seed.betaAdmin).json()
            #expect((betaList["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [seed.betaImageID])
            let foreign = try await client.send(.get, "/api/vm_images?organization_id=\(seed.alpha.id.rawValue)", token: seed.betaAdmin)
            #expect(foreign.status == .notFound)
            let builder = try await client.send(.get, "/api/vm_images", token: seed.builder)
            #expect(builder.status == .forbidden)
            #expect(try await client.send(.patch, "/api/vm_images/\(id)", token: seed.alphaMember, json: #"{"name":"x"}"#).status == .forbidden)
            #expect(try await client.send(.delete, "/api/vm_images/\(id)", token: seed.alphaMember).status == .forbidden)
            // Beta uploading into alpha by naming it is refused like any foreign id.
            let intoAlpha = try await client.upload(bytes, as: "d.qcow2", token: seed.betaAdmin, extra: [])
            #expect(intoAlpha.status == .created)
            let smuggled = try await client.upload(ImageFixtures.Form(
                fields: [("name", "x"), ("organization_id", seed.alpha.id.rawValue)], file: ("d.qcow2", bytes, "application/octet-stream")),
                token: seed.betaAdmin)
            #expect(smuggled.status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func editVersionsAndDelete(_ backend: TestBackend) async throws {
        let (directory, store) = try Self.storage()
        let bytes = try ImageFixtures.qcow2()
        try await Harness.withApp(backend, configure: { $0.dataDirectory = directory }) { client, seed in
            let first = try await client.upload(bytes, as: "d.qcow2", name: "v1", token: seed.alphaAdmin).json()
            let id = try #require(first["id"] as? String)
            let patched = try await client.send(.patch, "/api/vm_images/\(id)", token: seed.alphaAdmin, json: """
                {"name":"Renamed","software":[{"name":"burpsuite","version":"2023.10","ansible_role":"web-testing"}],"ansible_flags":{"apply_branding":true}}
                """)
            #expect(patched.status == .ok, "\(patched.text)")
            let body = try patched.json()
            #expect(body["name"] as? String == "Renamed")
            #expect((body["ansible_flags"] as? [String: Bool])?["apply_branding"] == true)
            let bad = try await client.send(.patch, "/api/vm_images/\(id)", token: seed.alphaAdmin, json: #"{"ansible_flags":["fly"]}"#)
            #expect(bad.errorCode == "unknown_ansible_flag")
            #expect(try await client.send(.patch, "/api/vm_images/\(id)", token: seed.alphaAdmin, json: #"{"sha256":"x"}"#).errorCode == "unknown_field")

            let second = try await client.upload(bytes, as: "d.qcow2", name: "v2", token: seed.alphaAdmin, extra: [("previous_version_id", id)])
            let secondID = try #require(try second.json()["id"] as? String)
            #expect(try second.json()["version"] as? Int == 2)
            let versions = try await client.send(.get, "/api/vm_images/\(secondID)/versions", token: seed.alphaMember).json()
            #expect((versions["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [secondID, id])

            #expect(try await client.send(.delete, "/api/vm_images/\(id)", token: seed.alphaAdmin).status == .noContent)
            #expect(try await client.send(.get, "/api/vm_images/\(id)", token: seed.alphaAdmin).status == .notFound)
            #expect(try await store.head(try BlobKey("images/\(id)/d.qcow2")) == nil)
            #expect(try await store.head(try BlobKey("images/\(secondID)/d.qcow2")) != nil)
            let deleted = try await client.send(.get, "/api/vm_images?status=deleted", token: seed.alphaAdmin).json()
            #expect((deleted["items"] as? [Any])?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func rateLimitHoldsAcrossARestart(_ backend: TestBackend) async throws {
        var config = try await backend.freshConfiguration()
        config.uploadLimits.uploadsPerHour = 5
        let seed = try await Harness.seed(config)
        let bytes = try ImageFixtures.qcow2()
        let app = try await buildApplication(config, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            for _ in 0..<5 {
                #expect(try await client.upload(bytes, as: "d.qcow2", token: seed.alphaAdmin).status == .created)
            }
            let limited = try await client.upload(bytes, as: "d.qcow2", token: seed.alphaAdmin)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "upload_rate_limited")
            let retryAfter = Int(try #require(limited.headers[.retryAfter])) ?? 0
            #expect((3000...3600).contains(retryAfter))
            // Per user: another admin still has all five.
            #expect(try await client.upload(bytes, as: "d.qcow2", token: seed.betaAdmin).status == .created)
        }
        let restarted = try await buildApplication(config, logger: Logger(label: "test"))
        try await restarted.test(.router) { client in
            let again = try await client.upload(bytes, as: "d.qcow2", token: seed.alphaAdmin)
            #expect(again.status == .tooManyRequests)
        }
    }
}
