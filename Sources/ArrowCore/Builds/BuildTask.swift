import Foundation

public enum BuildTaskTag {}
public typealias BuildTaskID = Identifier<BuildTaskTag>

/// Where a build task is in its lifecycle: `queued → running → succeeded | failed | canceled` (see ``BuildTaskState``).
public enum BuildTaskStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, canceled

    /// Queued or running: the task still needs its base image.
    public var isOpen: Bool { self == .queued || self == .running }
}

/// The device types a build targets (the spec's `device_type` / `build_type`), which are also the log platform.
public enum DeviceType: String, Sendable, Codable, CaseIterable {
    case pvm, vm
}

/// One row of the build queue (`vm_build_tasks`): a base image to customize for an organization, with the
/// request's parameters and the task's ``BuildTaskState``.
public struct BuildTask: Sendable, Equatable {
    public var id: BuildTaskID
    public var organizationID: OrganizationID
    public var imageID: ImageID
    /// The device request that asked for this build, when it came from the ARROW platform's trigger.
    public var deviceRequestID: DeviceRequestID?
    public var deviceType: DeviceType
    /// The build server that must run it; nil for any builder that builds `deviceType`.
    public var buildServerID: String?
    /// The client (the ARROW platform's customer) the device is for: part of the combined log's path.
    public var client: String
    public var vmName: String?
    public var description: String?
    public var options: BuildOptions
    public var notifyOnComplete: Bool
    public var createdBy: UserID?
    public var state: BuildTaskState
    /// The registered builder running the current attempt.
    public var builderID: BuilderID?
    /// When the current lease ends, by the database's clock.
    public var leasedUntil: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: BuildTaskID = .generate(), organizationID: OrganizationID, imageID: ImageID, deviceRequestID: DeviceRequestID? = nil,
        deviceType: DeviceType = .vm, buildServerID: String? = nil, client: String = "", vmName: String? = nil,
        description: String? = nil, options: BuildOptions = BuildOptions(), notifyOnComplete: Bool = false,
        status: BuildTaskStatus = .queued, createdBy: UserID?, createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.imageID = imageID
        self.deviceRequestID = deviceRequestID
        self.deviceType = deviceType
        self.buildServerID = buildServerID
        self.client = client
        self.vmName = vmName
        self.description = description
        self.options = options
        self.notifyOnComplete = notifyOnComplete
        self.createdBy = createdBy
        self.state = BuildTaskState(status: status)
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    public var status: BuildTaskStatus {
        get { state.status }
        set { state.status = newValue }
    }
}

/// The queue's rows, scoped by organization in the query. Every write after creation is a compare-and-set on what
/// the caller read (status, attempt, lease token), so concurrent writers cannot overwrite each other.
public protocol BuildTaskRepository: Sendable {
    /// Inserts the row as it is. Use ``DataStore/enqueue(_:)``, which first makes sure the image may be built.
    func create(_ task: BuildTask) async throws
    func find(id: BuildTaskID, scope: AccessScope) async throws -> BuildTask?
    /// Newest first.
    func list(_ filter: BuildTaskFilter, scope: AccessScope, limit: Int) async throws -> [BuildTask]
    /// Returns false when the task is not within `scope`. For tests and repairs; the queue uses ``write(_:expecting:leaseSeconds:)``.
    func setStatus(id: BuildTaskID, _ status: BuildTaskStatus, at: Date, scope: AccessScope) async throws -> Bool

    /// Atomically takes the oldest queued task `builder` can build within `scope`: a new attempt with lease `token`,
    /// leased for `leaseSeconds` by the database's clock. Nil when there is none.
    func claim(for builder: Builder, scope: AccessScope, token: String, leaseSeconds: Int) async throws -> BuildTask?
    /// Writes `task` if the row still has `expecting`'s status, attempt and lease token; with `leaseSeconds`, also
    /// extends the lease from the database's now. False when the row moved on.
    func write(_ task: BuildTask, expecting: BuildTaskState, leaseSeconds: Int?) async throws -> Bool
    /// The task when it is running under exactly this lease and the lease has not ended by the database's clock.
    func leased(id: BuildTaskID, attempt: Int, token: String, scope: AccessScope) async throws -> BuildTask?
    /// Running tasks whose lease ended before the database's now.
    func expiredLeases(limit: Int) async throws -> [BuildTask]
    /// Tells claimers on other nodes that work arrived, when the transaction commits (PostgreSQL `NOTIFY`; nothing on
    /// SQLite, whose claimers all live in this process).
    func announce() async throws
    /// Queue depth and the age of the oldest queued task, by the database's clock.
    func queueSummary() async throws -> QueueSummary
}

public struct BuildTaskFilter: Sendable, Equatable {
    public var status: BuildTaskStatus?
    public var imageID: ImageID?
    public var deviceRequestID: DeviceRequestID?

    public init(status: BuildTaskStatus? = nil, imageID: ImageID? = nil, deviceRequestID: DeviceRequestID? = nil) {
        self.status = status
        self.imageID = imageID
        self.deviceRequestID = deviceRequestID
    }
}

public struct QueueSummary: Sendable, Equatable {
    public var queued: Int
    public var running: Int
    public var oldestQueuedAge: TimeInterval?

    public init(queued: Int, running: Int, oldestQueuedAge: TimeInterval?) {
        self.queued = queued
        self.running = running
        self.oldestQueuedAge = oldestQueuedAge
    }
}
