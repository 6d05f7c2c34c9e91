import ArrowCore
import ArrowProtocol
import Foundation

/// Build logs: builders append chunks under their lease (kept in the database, so a log is readable while the build
/// runs); once the task has finished, the four per-phase logs and the combined log are written to object storage at
/// the spec's paths, and readers are served from there.
public struct BuildLogs: Sendable {
    let store: any DataStore
    let blobs: any BlobStore
    /// Largest chunk a builder may send at once.
    public static let maxChunk = 256 << 10

    public init(store: any DataStore, blobs: any BlobStore) {
        self.store = store
        self.blobs = blobs
    }

    /// Exactly the four names, with or without `.log`; anything else (paths, encodings, other names) is refused.
    public static func file(_ name: String) throws -> StorageLayout.BuildLog {
        let base = name.hasSuffix(".log") ? String(name.dropLast(4)) : name
        guard let file = StorageLayout.BuildLog(rawValue: base) else {
            throw ArrowError(.invalidInput, reason: "invalid_log_file", "file must be one of download.log, ansible.log, deploy.log, summary.log")
        }
        return file
    }

    public func append(_ upload: TaskLogUpload, principal: Principal) async throws -> Bool {
        try BuildQueue.requireBuilder(principal)
        let file = try Self.file(upload.file)
        guard upload.content.utf8.count <= Self.maxChunk else {
            throw ArrowError(.payloadTooLarge, reason: "log_chunk_too_large", "A log chunk may be at most \(Self.maxChunk >> 10) KiB")
        }
        guard (0...10_000_000).contains(upload.sequence) else {
            throw ArrowError(.unprocessable, reason: "invalid_sequence", "sequence must be 0…10,000,000")
        }
        let scope = principal.scope
        return try await store.transaction { repos in
            guard let task = try await repos.buildTasks.find(id: BuildTaskID(upload.taskId), scope: scope) else {
                throw ArrowError.notFound("Build task")
            }
            guard task.state.attempt == upload.attempt, task.state.leaseToken == upload.leaseToken else {
                throw BuildTransitionError.staleLease.arrowError
            }
            guard task.status == .running else { throw BuildTransitionError.notRunning(task.status).arrowError }
            return try await repos.taskLogs.append(TaskLogChunk(
                taskID: task.id, attempt: upload.attempt, file: file, sequence: upload.sequence, content: upload.content, createdAt: Date()))
        }
    }

    /// The task, if the principal may read its logs.
    public func task(_ id: String, principal: Principal) async throws -> BuildTask {
        try principal.requireHuman()
        try principal.require(.logsRead)
        guard let task = try await store.repositories.buildTasks.find(id: BuildTaskID(id), scope: principal.scope) else {
            throw ArrowError.notFound("Build task")
        }
        return task
    }

    /// The archived object, when the task's logs are in storage.
    public func archived(_ task: BuildTask, _ file: StorageLayout.BuildLog) async throws -> BlobKey? {
        let key = try StorageLayout.buildLog(organizationID: task.organizationID.rawValue, taskID: task.id.rawValue, file)
        return try await blobs.head(key) == nil ? nil : key
    }

    public func get(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody) {
        try await blobs.get(key, range: range)
    }

    /// The chunks after `position`, from the database.
    public func chunks(_ task: BuildTask, _ file: StorageLayout.BuildLog, after position: TaskLogChunk.Position?) async throws -> [TaskLogChunk] {
        try await store.repositories.taskLogs.chunks(task: task.id, file: file, after: position)
    }

    public func status(_ task: BuildTask) async throws -> BuildTaskStatus? {
        try await store.repositories.buildTasks.find(id: task.id, scope: .all)?.status
    }

    /// Writes the finished tasks' logs to object storage: each per-phase log at
    /// `build-logs/{org}/{task}/{file}.log` and all four, in phase order, at `logs/{client}/{platform}/{task}.log`.
    /// Returns how many tasks it archived. Each task is taken first with a conditional update, so two archivers (two
    /// API nodes) never write the same objects at once; a failed write gives the task back. A crash between taking
    /// and writing leaves that task's logs in the database only, where the proxy still reads them.
    @discardableResult
    public func archiveFinished(limit: Int = 20) async throws -> Int {
        var archived = 0
        for task in try await store.repositories.taskLogs.unarchived(limit: limit) {
            guard try await store.repositories.taskLogs.claimArchiving(task: task.id, at: Date()) else { continue }
            do {
                try await archive(task)
                archived += 1
            } catch {
                try? await store.repositories.taskLogs.releaseArchiving(task: task.id)
                throw error
            }
        }
        return archived
    }

    private func archive(_ task: BuildTask) async throws {
        var combined: [UInt8] = []
        for file in StorageLayout.BuildLog.allCases {
            let bytes = Array(try await chunks(task, file, after: nil).map(\.content).joined().utf8)
            try await replace(try StorageLayout.buildLog(organizationID: task.organizationID.rawValue, taskID: task.id.rawValue, file), bytes)
            if !bytes.isEmpty {
                combined += Array("=== \(file.rawValue).log ===\n".utf8) + bytes
                if bytes.last != UInt8(ascii: "\n") { combined.append(UInt8(ascii: "\n")) }
            }
        }
        try await replace(try StorageLayout.combinedLog(client: task.client, platform: task.deviceType.rawValue, taskID: task.id.rawValue), combined)
    }

    /// Objects are immutable: a retried task's logs replace the earlier attempt's by delete, then put.
    private func replace(_ key: BlobKey, _ bytes: [UInt8]) async throws {
        if try await blobs.head(key) != nil { try await blobs.delete(key) }
        _ = try await blobs.put(key, body: BlobBody(bytes: bytes), length: Int64(bytes.count))
    }
}
