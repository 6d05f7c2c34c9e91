import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One multipart upload: sign (or resume), PUT the missing parts to their presigned URLs, complete. The session id
/// is kept in a state file until completion, so `--resume` can pick up after an interruption; parts already
/// stored are only read locally, for the hash.
struct MultipartUpload {
    let client: APIClient
    let file: LocalFile
    let options: UploadOptions
    let statePath: String

    struct State: Codable {
        var uploadId: String
        var api: String
        var path: String
        var size: Int64
    }

    func run() async throws -> [String: Any] {
        var session: [String: Any]
        if options.resume {
            guard let data = FileManager.default.contents(atPath: statePath),
                  let state = try? JSONDecoder().decode(State.self, from: data) else {
                throw LocalFileError(message: "no interrupted upload of \(options.path) to resume (it changed, or it finished)")
            }
            session = try await sign(["upload_id": state.uploadId])
            FileHandle.standardError.write(Data("resuming upload \(state.uploadId): \(Self.parts(session, "uploaded_parts").count) of \(session["part_count"] as? Int ?? 0) parts already stored\n".utf8))
        } else {
            var body: [String: Any] = ["file_name": options.fileName, "file_size": file.size]
            for (name, value) in options.fields {
                // software and ansible_flags travel as JSON values here, as text in a form.
                body[name] = ["software", "ansible_flags"].contains(name) ? (try? JSONSerialization.jsonObject(with: Data(value.utf8))) ?? value : value
            }
            session = try await sign(body)
            try save(State(uploadId: try Self.string(session, "upload_id"), api: client.baseURL, path: options.path, size: file.size))
        }
        let id = try Self.string(session, "upload_id")
        let partSize = Int64(try Self.int(session, "part_size"))
        let partCount = try Self.int(session, "part_count")
        let stored = Set(Self.parts(session, "uploaded_parts").compactMap { $0["part_number"] as? Int })
        var urls = Dictionary(Self.parts(session, "parts").compactMap { part in (part["part_number"] as? Int).map { ($0, part) } }, uniquingKeysWith: { $1 })

        let hash = RunningDigest()
        let progress = ProgressBar(total: file.size, label: "uploading")
        var sent = 0
        for number in 1...partCount {
            let offset = Int64(number - 1) * partSize
            let length = min(partSize, file.size - offset)
            if stored.contains(number) {
                // Already on the server: read it here only for the digest.
                for try await _ in file.chunks(offset: offset, length: length, observe: { chunk in
                    hash.update(chunk)
                    progress.advance(by: Int64(chunk.count))
                }) {}
                continue
            }
            if let limit = options.interruptAfterParts, sent >= limit {
                progress.finish("interrupted after \(sent) part(s); run again with --resume")
                throw LocalFileError(message: "upload interrupted (--interrupt-after-parts \(limit)); resume with --resume")
            }
            try await put(number: number, offset: offset, length: length, urls: &urls, id: id, hash: hash, progress: progress)
            sent += 1
        }
        let digest = hash.hex()
        progress.finish("uploaded \(ProgressBar.bytes(file.size)) in \(partCount) part(s); the server is checking it")
        let image = try await client.json(.POST, "/api/vm_images/upload/complete", body: ["upload_id": id, "sha256": digest])
        try? FileManager.default.removeItem(atPath: statePath)
        return image as? [String: Any] ?? [:]
    }

    /// PUTs one part, retrying up to three times; an expired or refused URL is signed again. The digest state is
    /// rewound before each retry so the part is hashed exactly once.
    private func put(
        number: Int, offset: Int64, length: Int64, urls: inout [Int: [String: Any]], id: String, hash: RunningDigest, progress: ProgressBar
    ) async throws {
        let before = hash.snapshot()
        var attempt = 0
        while true {
            attempt += 1
            if urls[number] == nil {
                let signed = try await sign(["upload_id": id, "part_numbers": [number]])
                for part in Self.parts(signed, "parts") { if let n = part["part_number"] as? Int { urls[n] = part } }
            }
            let part = try urls[number] ?? { throw LocalFileError(message: "the server did not sign part \(number)") }()
            let headers = ((part["headers"] as? [String: String]) ?? [:]).map { ($0.key, $0.value) }
            let sentBytes = Mutex<Int64>(0)
            do {
                _ = try await client.stream(
                    .PUT, url: try Self.string(part, "url"), headers: headers,
                    body: file.chunks(offset: offset, length: length) { chunk in
                        hash.update(chunk)
                        sentBytes.withLock { $0 += Int64(chunk.count) }
                        progress.advance(by: Int64(chunk.count))
                    }, length: length, authorized: false)
                return
            } catch {
                hash.restore(before)
                progress.advance(by: -sentBytes.withLock { $0 })
                guard attempt < 3 else { throw error }
                if let api = error as? APIError, api.status == 403 || api.status == 400 { urls[number] = nil }
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    private func sign(_ body: [String: Any]) async throws -> [String: Any] {
        guard let session = try await client.json(.POST, "/api/vm_images/upload/sign", body: body) as? [String: Any] else {
            throw LocalFileError(message: "the server's sign response was not a JSON object")
        }
        return session
    }

    private func save(_ state: State) throws {
        try FileManager.default.createDirectory(atPath: (statePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: statePath), options: .atomic)
    }

    static func parts(_ session: [String: Any], _ key: String) -> [[String: Any]] { session[key] as? [[String: Any]] ?? [] }

    static func string(_ object: [String: Any], _ key: String) throws -> String {
        guard let value = object[key] as? String else { throw LocalFileError(message: "the server's response has no \(key)") }
        return value
    }

    static func int(_ object: [String: Any], _ key: String) throws -> Int {
        guard let value = object[key] as? Int else { throw LocalFileError(message: "the server's response has no \(key)") }
        return value
    }
}
