import ArrowApp
import ArrowCore
import ArrowRegistry
import ArrowTesting
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing

/// `arrow image upload|list|show|versions|set-default|share|rm` against a real `arrow serve`.
@Suite(.serialized) struct ImageCLITests {
    struct Server {
        let process: ArrowProcess
        let dataDir: String
        let environment: [String: String]
    }

    static func withServer(_ body: (Server) async throws -> Void) async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        let (status, out, _) = try ArrowProcess.run(
            ["admin", "init", "--data-dir", dataDir, "--email", "root@arrow.test", "--password", "rootpassword"])
        try #require(status == 0)
        let token = try #require(out.split(separator: "\n").last.map(String.init))
        let port = HTTP.freePort()
        let process = try ArrowProcess(["serve", "--port", String(port), "--data-dir", dataDir], environment: ["ARROW_UPLOADS_PER_HOUR": "100"])
        try #require(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))
        let environment = ["ARROW_API": "http://127.0.0.1:\(port)", "ARROW_TOKEN": token, "XDG_CACHE_HOME": dataDir + "/cache"]
        do {
            try await body(Server(process: process, dataDir: dataDir, environment: environment))
        } catch {
            _ = try? process.terminate()
            throw error
        }
        _ = try process.terminate()
    }

    /// A qcow2 made by qemu-img, followed by `padding` bytes (qemu ignores them), so it passes the 1 MiB minimum.
    static func image(_ name: String, padding: Int, in directory: URL) throws -> (String, String) {
        let url = try TestImages.qemuImage(name, format: "qcow2", size: "64M", in: directory)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(testBytes(padding, seed: UInt8(name.count))))
        try handle.close()
        let digest = Hex.string(SHA256.hash(data: try Data(contentsOf: url)))
        return (url.path, digest)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The session id of the one interrupted upload the client remembers.
    static func pendingUploadID(_ server: Server) throws -> String {
        let directory = server.dataDir + "/cache/arrow/uploads/"
        let stateFiles = try FileManager.default.contentsOfDirectory(atPath: directory)
        let state = try Self.json(try String(contentsOfFile: directory + #require(stateFiles.first), encoding: .utf8))
        return try #require(state["uploadId"] as? String)
    }

    /// Storage that could not be read back once the parts were assembled leaves the session `assembled`: `--resume`
    /// sends no part again, and completes it.
    @Test func resumeCompletesAnUploadAssembledButNotChecked() async throws {
        let directory = try TestImages.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (large, largeDigest) = try Self.image("large.qcow2", padding: 20 << 20, in: directory)
        try await Self.withServer { server in
            let env = server.environment
            let multipart = ["image", "upload", large, "--name", "Assembled", "--multipart-threshold", "8"]
            #expect(try ArrowProcess.run(multipart + ["--interrupt-after-parts", "1"], environment: env).0 == 1)
            let uploadID = try Self.pendingUploadID(server)
            // The other parts, then a completion whose read-back for the hash fails: through the server's own
            // database and store, with a store that fails that one read.
            var config = AppConfiguration()
            config.dataDirectory = server.dataDir
            try await Backends.using(config, logger: Logger(label: "test")) { backends in
                let principal = try await backends.identity.authenticate(secret: try #require(env["ARROW_TOKEN"]))
                let registry = ImageRegistry(store: backends.store, blobs: FlakyStore(backends.blobs, failingReads: [1]), logger: Logger(label: "test"))
                let signed = try await registry.signParts(principal: principal, id: uploadID, parts: nil)
                try await uploadParts(signed, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: large))), blobs: backends.blobs)
                await #expect(throws: ArrowError.self) { try await registry.completeMultipart(principal: principal, id: uploadID, sha256: nil) }
                #expect(try await registry.multipartStatus(principal: principal, id: uploadID).session.status == .assembled)
            }
            let (resumed, out, err) = try ArrowProcess.run(multipart + ["--resume"], environment: env)
            #expect(resumed == 0, "\(err)")
            #expect(err.contains("all of 3 parts already stored"), "\(err)")
            let (_, shown, _) = try ArrowProcess.run(["image", "show", out.trimmingCharacters(in: .whitespacesAndNewlines)], environment: env)
            #expect(try Self.json(shown)["sha256"] as? String == largeDigest)
        }
    }

    @Test func uploadResumeAndManageImages() async throws {
        let directory = try TestImages.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (small, smallDigest) = try Self.image("small.qcow2", padding: 2 << 20, in: directory)
        let (large, largeDigest) = try Self.image("large.qcow2", padding: 20 << 20, in: directory)
        try await Self.withServer { server in
            let env = server.environment
            // Single request, with software and flags; the digest the server records is the file's.
            let (status, out, err) = try ArrowProcess.run(
                ["image", "upload", small, "--name", "Small", "--software", "nmap:latest:security-tools", "--flag", "harden_ssh", "--json"],
                environment: env)
            #expect(status == 0, "\(err)")
            let first = try Self.json(out)
            #expect(first["sha256"] as? String == smallDigest)
            #expect(first["format"] as? String == "qcow2")
            #expect((first["ansible_flags"] as? [String: Bool])?["harden_ssh"] == true)
            #expect(err.contains("uploading ["), "a progress bar")
            let smallID = try #require(first["id"] as? String)

            // Multipart, interrupted after one part, then resumed: only the missing parts are sent.
            let multipart = ["image", "upload", large, "--name", "Large", "--multipart-threshold", "8"]
            let (cut, _, cutErr) = try ArrowProcess.run(multipart + ["--interrupt-after-parts", "1"], environment: env)
            #expect(cut == 1)
            #expect(cutErr.contains("--resume"))
            let (resumed, resumedOut, resumedErr) = try ArrowProcess.run(multipart + ["--resume"], environment: env)
            #expect(resumed == 0, "\(resumedErr)")
            #expect(resumedErr.contains("1 of 3 parts already stored"), "\(resumedErr)")
            let largeID = resumedOut.trimmingCharacters(in: .whitespacesAndNewlines)
            let (_, shown, _) = try ArrowProcess.run(["image", "show", largeID], environment: env)
            #expect(try Self.json(shown)["sha256"] as? String == largeDigest)
            let (again, _, againErr) = try ArrowProcess.run(multipart + ["--resume"], environment: env)
            #expect(again == 1)
            #expect(againErr.contains("no interrupted upload"))
            // An interrupted upload aborted on the server cannot be resumed; the client says so and forgets it.
            #expect(try ArrowProcess.run(multipart + ["--interrupt-after-parts", "1"], environment: env).0 == 1)
            let uploadID = try Self.pendingUploadID(server)
            var abort = URLRequest(url: URL(string: env["ARROW_API"]! + "/api/vm_images/upload/" + uploadID)!)
            abort.httpMethod = "DELETE"
            abort.setValue("Bearer " + env["ARROW_TOKEN"]!, forHTTPHeaderField: "Authorization")
            #expect((try await URLSession.shared.data(for: abort).1 as? HTTPURLResponse)?.statusCode == 204)
            let (stale, _, staleErr) = try ArrowProcess.run(multipart + ["--resume"], environment: env)
            #expect(stale == 1)
            #expect(staleErr.contains("can no longer be resumed"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/cache/arrow/uploads").isEmpty)

            // A new version, then the listing, versions, defaults and sharing.
            let (_, v2, _) = try ArrowProcess.run(["image", "upload", small, "--name", "Small v2", "--previous-version", smallID], environment: env)
            let v2ID = v2.trimmingCharacters(in: .whitespacesAndNewlines)
            let (_, versions, _) = try ArrowProcess.run(["image", "versions", v2ID], environment: env)
            #expect(versions.split(separator: "\n").map { String($0.prefix(36)) } == [v2ID, smallID])
            let (_, listed, _) = try ArrowProcess.run(["image", "list"], environment: env)
            #expect(Set(listed.split(separator: "\n").map { String($0.prefix(36)) }) == [smallID, largeID, v2ID])
            #expect(try ArrowProcess.run(["image", "set-default", largeID, v2ID], environment: env).0 == 0)
            let (_, defaults, _) = try ArrowProcess.run(["image", "list", "--defaults"], environment: env)
            #expect(defaults.split(separator: "\n").map { String($0.prefix(36)) } == [largeID, v2ID])

            let (_, org, _) = try ArrowProcess.run(["admin", "org", "create", "--data-dir", server.dataDir, "--name", "other"])
            let otherID = org.trimmingCharacters(in: .whitespacesAndNewlines)
            let (shared, sharedOut, sharedErr) = try ArrowProcess.run(["image", "share", largeID, "--with", otherID], environment: env)
            #expect(shared == 0, "\(sharedErr)")
            #expect(sharedOut.contains(otherID))
            #expect(try ArrowProcess.run(["image", "share", largeID, "--remove", otherID], environment: env).0 == 0)

            // Removal, refusals and usage errors.
            #expect(try ArrowProcess.run(["image", "rm", largeID], environment: env).0 == 0)
            let (gone, _, goneErr) = try ArrowProcess.run(["image", "show", largeID], environment: env)
            #expect(gone == 1)
            #expect(goneErr.contains("not_found"))
            let (rejected, _, rejectedErr) = try ArrowProcess.run(["image", "upload", small, "--name", "x", "--file-name", "disk.vmdk"], environment: env)
            #expect(rejected == 1)
            #expect(rejectedErr.contains("image_rejected"))
            #expect(try ArrowProcess.run(["image", "list"], environment: ["XDG_CACHE_HOME": "/tmp"]).0 == 2)
            #expect(try ArrowProcess.run(["image", "upload", small, "--name", "x", "--software", "nmap"], environment: env).0 == 2)
        }
    }
}
