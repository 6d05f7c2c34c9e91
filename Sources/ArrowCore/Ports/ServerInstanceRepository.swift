import Foundation

/// One running server process: its id (a UUID made at start), where it runs, and when it last said it was alive.
public struct ServerInstance: Sendable, Equatable {
    public var id: String
    public var host: String
    public var pid: Int64
    public var startedAt: Date
    public var heartbeatAt: Date

    public init(id: String, host: String, pid: Int64, startedAt: Date, heartbeatAt: Date) {
        self.id = id
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }
}

/// The server processes sharing a database, for telling uploads in flight from those a dead process left behind.
public protocol ServerInstanceRepository: Sendable {
    /// Inserts the instance, or refreshes its heartbeat.
    func heartbeat(_ instance: ServerInstance) async throws
    func all() async throws -> [ServerInstance]
    func remove(id: String) async throws
}
