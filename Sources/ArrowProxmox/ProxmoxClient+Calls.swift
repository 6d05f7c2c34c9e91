import ArrowProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// The calls a deployment and `arrow build-server check` make (external-apis.md §1.3), typed.
extension ProxmoxClient {
    public struct TaskStatus: Sendable, Equatable {
        public var running: Bool
        /// `OK`, `WARNINGS: n` (both success) or the error text.
        public var exitStatus: String?
        public var succeeded: Bool { !running && (exitStatus == "OK" || exitStatus?.hasPrefix("WARNINGS:") == true) }
    }

    public struct StorageStatus: Sendable, Equatable {
        public var content: Set<String>
        public var type: String
        public var active: Bool
        public var available: Int64?
    }

    public struct Interface: Sendable, Equatable {
        public var name: String
        public var addresses: [String]
    }

    public static func segment(_ value: String) -> String { FormEncoding.escape(value) }

    public func version() async throws -> String {
        let answer = try await call(.GET, "/version")
        return answer["version"].string.map { v in answer["release"].string.map { "\(v) (release \($0))" } ?? v } ?? "unknown"
    }

    /// What the caller may do: path → privileges (`GET /access/permissions`, each token sees its own).
    public func permissions() async throws -> [String: Set<String>] {
        try await call(.GET, "/access/permissions").object.mapValues { privileges in
            Set(privileges.object.compactMap { $0.value.int == 1 ? $0.key : nil })
        }
    }

    public func storageStatus(node: String, storage: String) async throws -> StorageStatus {
        let answer = try await call(.GET, "/nodes/\(Self.segment(node))/storage/\(Self.segment(storage))/status")
        let content = Set((answer["content"].string ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        return StorageStatus(content: content, type: answer["type"].string ?? "", active: answer["active"].int == 1,
                             available: answer["avail"].int.map(Int64.init))
    }

    /// The storage's configured path (file-based storages), for an absolute `import-from`.
    public func storagePath(_ storage: String) async throws -> String? {
        try await call(.GET, "/storage/\(Self.segment(storage))")["path"].string
    }

    /// The next free VM id, or asserts that `vmid` is free (400 when taken).
    public func nextID(asserting vmid: Int? = nil) async throws -> Int {
        let answer = try await call(.GET, "/cluster/nextid", vmid.map { [("vmid", String($0))] } ?? [])
        guard let id = answer.int else { throw Failure(status: 200, message: "nextid answered no id", errors: [:], call: "GET /cluster/nextid") }
        return id
    }

    public func createVM(node: String, parameters: [(String, String)]) async throws -> UPID {
        try upid(try await call(.POST, "/nodes/\(Self.segment(node))/qemu", parameters, timeout: .seconds(120)), "POST /nodes/{node}/qemu")
    }

    public func startVM(node: String, vmid: Int) async throws -> UPID {
        try upid(try await call(.POST, "/nodes/\(Self.segment(node))/qemu/\(vmid)/status/start"), "start")
    }

    public func stopVM(node: String, vmid: Int) async throws -> UPID {
        try upid(try await call(.POST, "/nodes/\(Self.segment(node))/qemu/\(vmid)/status/stop"), "stop")
    }

    /// `PUT …/config` (synchronous): set options, and `delete` some (e.g. `cicustom` once its first boot is done).
    public func updateConfig(node: String, vmid: Int, _ parameters: [(String, String)]) async throws {
        _ = try await call(.PUT, "/nodes/\(Self.segment(node))/qemu/\(vmid)/config", parameters)
    }

    public func vmStatus(node: String, vmid: Int) async throws -> String {
        try await call(.GET, "/nodes/\(Self.segment(node))/qemu/\(vmid)/status/current")["status"].string ?? "unknown"
    }

    public func destroyVM(node: String, vmid: Int) async throws -> UPID {
        try upid(try await call(.DELETE, "/nodes/\(Self.segment(node))/qemu/\(vmid)", [("purge", "1"), ("destroy-unreferenced-disks", "1")]), "destroy")
    }

    public func deleteVolume(node: String, storage: String, volume: String) async throws -> UPID? {
        UPID(try await call(.DELETE, "/nodes/\(Self.segment(node))/storage/\(Self.segment(storage))/content/\(Self.segment(volume))").string ?? "")
    }

    /// True once the guest agent answers; false while PVE says it is not running (500).
    public func agentPing(node: String, vmid: Int) async throws -> Bool {
        do {
            _ = try await call(.POST, "/nodes/\(Self.segment(node))/qemu/\(vmid)/agent/ping")
            return true
        } catch let failure as Failure where failure.status == 500 && failure.message.contains("not running") {
            return false
        }
    }

    public func interfaces(node: String, vmid: Int) async throws -> [Interface] {
        let answer = try await call(.GET, "/nodes/\(Self.segment(node))/qemu/\(vmid)/agent/network-get-interfaces")
        return answer["result"].array.map { item in
            Interface(name: item["name"].string ?? "", addresses: item["ip-addresses"].array.compactMap { $0["ip-address"].string })
        }
    }

    // MARK: Tasks

    public func taskStatus(_ upid: UPID) async throws -> TaskStatus {
        let answer = try await call(.GET, "/nodes/\(Self.segment(upid.node))/tasks/\(Self.segment(upid.text))/status")
        return TaskStatus(running: answer["status"].string != "stopped", exitStatus: answer["exitstatus"].string)
    }

    /// The task's log lines from `start`.
    public func taskLog(_ upid: UPID, start: Int = 0) async throws -> [String] {
        try await call(.GET, "/nodes/\(Self.segment(upid.node))/tasks/\(Self.segment(upid.text))/log", [("start", String(start)), ("limit", "500")])
            .array.compactMap { $0["t"].string }
    }

    /// Polls the task on the node its UPID names until it stops; its log goes to `log`. Throws with PVE's exit
    /// status when it did not succeed.
    public func wait(_ upid: UPID, every interval: Duration = .seconds(1), timeout: Duration = .seconds(1800),
                     log: @Sendable (String) async -> Void) async throws {
        let clock = ContinuousClock(), deadline = clock.now + timeout
        var status = try await taskStatus(upid)
        while status.running {
            guard clock.now < deadline else { throw Failure(status: 0, message: "task \(upid.type) still running after \(timeout)", errors: [:], call: "task") }
            try await Task.sleep(for: interval)
            status = try await taskStatus(upid)
        }
        for line in (try? await taskLog(upid)) ?? [] { await log("  [\(upid.type)] \(line)") }
        guard status.succeeded else {
            throw Failure(status: 200, message: "task \(upid.type) ended: \(status.exitStatus ?? "unexpected status")", errors: [:], call: "task \(upid.type)")
        }
    }

    func upid(_ answer: JSONValue, _ call: String) throws -> UPID {
        guard let text = answer.string, let upid = UPID(text) else {
            throw Failure(status: 200, message: "answered no task id", errors: [:], call: call)
        }
        return upid
    }
}
