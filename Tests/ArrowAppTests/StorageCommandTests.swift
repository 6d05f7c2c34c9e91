import ArrowTesting
import Foundation
import Testing

/// `arrow storage verify` finds image bytes changed or removed behind their records, and `arrow storage rotate-secret`
/// makes every URL signed before stop working, in a server that keeps running; on SQLite and PostgreSQL.
@Suite(.serialized) struct StorageCommandTests {
    static func upload(_ base: String, token: String, name: String) async throws -> String {
        let boundary = "b-\(UUID().uuidString)"
        var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\(name)\r\n".utf8)
        form += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name).raw\"\r\n\r\n".utf8)
        form += Data(testBytes((1 << 20) + 512, seed: UInt8(name.count))) + Data("\r\n--\(boundary)--\r\n".utf8)
        let response = try #require(await HTTP.send("POST", "\(base)/api/vm_images/upload", token: token, body: form,
                                                    contentType: "multipart/form-data; boundary=\(boundary)"))
        #expect(response.0 == 201, "\(String(decoding: response.2, as: UTF8.self))")
        return try #require((try JSONSerialization.jsonObject(with: response.2) as? [String: Any])?["id"] as? String)
    }

    @Test(arguments: TestBackend.allCases)
    func verifyFindsChangedAndMissingBytesAndRotationRevokesURLs(_ backend: TestBackend) async throws {
        var environment: [String: String] = [:]
        if backend == .postgres { environment["ARROW_DATABASE_URL"] = try await TestPostgres.createDatabase() }
        let installation = try TestInstallation(environment: environment)
        let (dataDir, token, base) = (installation.dataDir, installation.token, installation.base)
        let server = try await installation.serve()
        defer { _ = try? server.terminate() }
        let kept = try await Self.upload(base, token: token, name: "kept")
        let changed = try await Self.upload(base, token: token, name: "changed")
        let removed = try await Self.upload(base, token: token, name: "removed")

        let (clean, cleanOut, _) = try ArrowProcess.run(["storage", "verify", "--data-dir", dataDir], environment: environment)
        #expect(clean == 0, "\(cleanOut)")
        #expect(cleanOut.contains("3 image(s) checked, 0 mismatched or missing"))

        // A signed download URL works until the secret is rotated.
        let download = try #require(await HTTP.send("GET", "\(base)/api/vm_images/\(kept)/download", token: token))
        let url = try #require(download.1["Location"] as? String)
        #expect(await HTTP.send("GET", url)?.0 == 200)
        let (rotated, rotatedOut, _) = try ArrowProcess.run(["storage", "rotate-secret", "--data-dir", dataDir], environment: environment)
        #expect(rotated == 0, "\(rotatedOut)")
        try await Task.sleep(for: .milliseconds(1200))
        #expect(await HTTP.send("GET", url)?.0 == 403, "a URL signed before the rotation still works")
        let fresh = try #require(await HTTP.send("GET", "\(base)/api/vm_images/\(kept)/download", token: token)?.1["Location"] as? String)
        #expect(await HTTP.send("GET", fresh)?.0 == 200, "a URL signed after the rotation should work")

        // Bytes changed on the disk behind the record, and an object removed.
        let objects = dataDir + "/storage/objects/images"
        let changedFile = "\(objects)/\(changed)/changed.raw"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: changedFile))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([0xEE]))
        try handle.close()
        try FileManager.default.removeItem(atPath: "\(objects)/\(removed)/removed.raw")
        let (dirty, dirtyOut, _) = try ArrowProcess.run(["storage", "verify", "--data-dir", dataDir], environment: environment)
        #expect(dirty == 1)
        #expect(dirtyOut.contains("MISMATCH \(changed)"), "\(dirtyOut)")
        #expect(dirtyOut.contains("MISSING  \(removed)"), "\(dirtyOut)")
        #expect(dirtyOut.contains("OK       \(kept)"), "\(dirtyOut)")
        let (_, json, _) = try ArrowProcess.run(["storage", "verify", "--data-dir", dataDir, "--json"], environment: environment)
        let lines = json.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 3)
        #expect(lines.first { $0["image_id"] as? String == changed }?["outcome"] as? String == "mismatch")
    }
}
