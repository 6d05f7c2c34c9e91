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
            do {
                session = try await sign(["upload_id": state.uploadId])
            } catch let error as APIError where error.status == 404 || error.status == 409 {
                // Expired, aborted or completed elsewhere: nothing left to resume, so forget it.
                try? FileManager.default.removeItem(atPath: statePath)
                throw LocalFileError(message: "the interrupted upload can no longer be resumed (\(error.code)); start again without --resume")
            }
            let stored = Self.assembled(session) ? "all" : String(Self.parts(session, "uploaded_parts").count)
            FileHandle.standardError.write(Data("resuming upload \(state.uploadId): \(stored) of \(session["part_count"] as? Int ?? 0) parts already stored\n".utf8))
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
        let concurrency = min(max(session["parallel_parts"] as? Int ?? Self.defaultConcurrency, 1), Self.maxConcurrency)
        // An assembled session (completion stored the object but could not check it) has every part.
        let stored = Self.assembled(session) ? Set(1...partCount) : Set(Self.parts(session, "uploaded_parts").compactMap { $0["part_number"] as? Int })
        var urls = Self.signedParts(session)

        // Parts are read in order (the digest needs them in order), the next one while this one is hashed, and sent
        // up to `concurrency` at a time (as the server advises), from memory: at most (concurrency + 2) parts are
        // held, and a retry resends the same bytes.
        let hash = RunningDigest()
        let progress = ProgressBar(total: file.size, label: "uploading")
        let read = { [file] (number: Int) in
            let offset = Int64(number - 1) * partSize
            return Task { try await file.readPart(offset: offset, length: Int(min(partSize, file.size - offset))) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var sent = 0
            var next = read(1)
            defer { next.cancel() }
            for number in 1...partCount {
                let bytes = try await next.value
                if number < partCount { next = read(number + 1) }
                hash.update(bytes)
                if stored.contains(number) {
                    progress.advance(by: Int64(bytes.readableBytes))
                    continue
                }
                if let limit = options.interruptAfterParts, sent >= limit {
                    try await group.waitForAll()
                    progress.finish("interrupted after \(sent) part(s); run again with --resume")
                    throw LocalFileError(message: "upload interrupted (--interrupt-after-parts \(limit)); resume with --resume")
                }
                if sent >= concurrency { try await group.next() }
                let signed = urls.removeValue(forKey: number)
                group.addTask { [self] in
                    try await put(number: number, bytes: bytes, signed: signed, id: id)
                    progress.advance(by: Int64(bytes.readableBytes))
                }
                sent += 1
            }
            try await group.waitForAll()
        }
        let digest = hash.hex()
        progress.finish("uploaded \(ProgressBar.bytes(file.size)) in \(partCount) part(s); the server is checking it")
        let image: Any?
        do {
            image = try await client.json(.POST, "/api/vm_images/upload/complete", body: ["upload_id": id, "sha256": digest])
        } catch let error as APIError where error.status == 503 {
            // Nothing is lost: the parts, or the object assembled from them, stay in the store.
            throw LocalFileError(message: "\(error.message); run again with --resume to complete it without sending the parts again")
        }
        try? FileManager.default.removeItem(atPath: statePath)
        return image as? [String: Any] ?? [:]
    }

    static func assembled(_ session: [String: Any]) -> Bool { session["status"] as? String == "assembled" }

    /// Parts in flight at once when the server does not say (`parallel_parts`), and never more than `maxConcurrency`.
    static let defaultConcurrency = 3
    static let maxConcurrency = 8

    /// PUTs one part, retrying up to three times; an expired or refused URL is signed again.
    private func put(number: Int, bytes: ByteBuffer, signed: SignedPart?, id: String) async throws {
        var part = signed
        var attempt = 0
        while true {
            attempt += 1
            if part == nil { part = Self.signedParts(try await sign(["upload_id": id, "part_numbers": [number]]))[number] }
            guard let current = part else { throw LocalFileError(message: "the server did not sign part \(number)") }
            do {
                _ = try await client.stream(
                    .PUT, url: current.url, headers: current.headers,
                    body: OneBuffer(buffer: bytes), length: Int64(bytes.readableBytes), authorized: false)
                return
            } catch {
                guard attempt < 3 else { throw error }
                if let api = error as? APIError, [400, 403, 404].contains(api.status) { part = nil }
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

    /// A presigned part URL and the headers signed with it.
    struct SignedPart: Sendable {
        var url: String
        var headers: [(String, String)]
    }

    static func signedParts(_ session: [String: Any]) -> [Int: SignedPart] {
        var out: [Int: SignedPart] = [:]
        for part in parts(session, "parts") {
            guard let number = part["part_number"] as? Int, let url = part["url"] as? String else { continue }
            out[number] = SignedPart(url: url, headers: ((part["headers"] as? [String: String]) ?? [:]).map { ($0.key, $0.value) })
        }
        return out
    }

    static func string(_ object: [String: Any], _ key: String) throws -> String {
        guard let value = object[key] as? String else { throw LocalFileError(message: "the server's response has no \(key)") }
        return value
    }

    static func int(_ object: [String: Any], _ key: String) throws -> Int {
        guard let value = object[key] as? Int else { throw LocalFileError(message: "the server's response has no \(key)") }
        return value
    }
}

/// A body of one buffer, for a part already in memory.
struct OneBuffer: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer

    struct AsyncIterator: AsyncIteratorProtocol {
        var buffer: ByteBuffer?
        mutating func next() async -> ByteBuffer? {
            defer { buffer = nil }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
