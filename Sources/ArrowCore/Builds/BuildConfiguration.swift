import Foundation

/// An organization's ClientConfig as stored: the JSON document with every secret in it already sealed (see
/// `SecretBox`), so the database never holds a VPN setup key or a password hash in the clear. The document's
/// shape and rules belong to ArrowBuilds; the database only keeps the text and a revision for optimistic writes.
public struct StoredClientConfig: Sendable, Equatable {
    public var organizationID: OrganizationID
    public var document: String
    /// Starts at 1 and grows by one with each write.
    public var revision: Int
    public var updatedAt: Date
    public var updatedBy: UserID?

    public init(organizationID: OrganizationID, document: String, revision: Int, updatedAt: Date, updatedBy: UserID?) {
        self.organizationID = organizationID
        self.document = document
        self.revision = revision
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }
}

public protocol ClientConfigRepository: Sendable {
    func find(organization: OrganizationID) async throws -> StoredClientConfig?
    /// Writes `config` if the stored revision is still `expectedRevision` (0: none stored yet). False when another
    /// write came first.
    func save(_ config: StoredClientConfig, expectedRevision: Int) async throws -> Bool
}

/// How long one phase of one attempt took (closed when the next phase starts or the attempt ends).
public struct PhaseTiming: Sendable, Equatable {
    public var attempt: Int
    public var phase: BuildPhase
    public var startedAt: Date
    public var finishedAt: Date?

    public init(attempt: Int, phase: BuildPhase, startedAt: Date, finishedAt: Date?) {
        self.attempt = attempt
        self.phase = phase
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// A finished task as the build statistics read it.
public struct FinishedBuild: Sendable, Equatable {
    public var organizationID: OrganizationID
    public var imageID: ImageID
    public var status: BuildTaskStatus
    public var errorCode: BuildFailureCode?
    /// From the start of the last attempt to its end.
    public var duration: TimeInterval?

    public init(organizationID: OrganizationID, imageID: ImageID, status: BuildTaskStatus, errorCode: BuildFailureCode?, duration: TimeInterval?) {
        self.organizationID = organizationID
        self.imageID = imageID
        self.status = status
        self.errorCode = errorCode
        self.duration = duration
    }
}

public protocol BuildHistoryRepository: Sendable {
    /// Closes `from`'s row for the attempt (creating it with `fromStartedAt` when the claim opened it and nothing
    /// recorded it yet) and opens `to`'s, all at `at`. Returns when the closed phase started.
    @discardableResult
    func recordPhaseChange(task: BuildTaskID, attempt: Int, from: BuildPhase?, fromStartedAt: Date?, to: BuildPhase?, at: Date) async throws -> Date?
    /// Every attempt's phases, oldest first.
    func phases(task: BuildTaskID) async throws -> [PhaseTiming]
    /// Tasks that ended at or after `since` within `scope`, at most `limit`.
    func finished(since: Date, scope: AccessScope, limit: Int) async throws -> [FinishedBuild]
}

/// A built image's provenance and contents as the builder reported them (JSON; its shape is the wire's).
public struct ImageBuildRecord: Sendable, Equatable {
    public var imageID: ImageID
    public var taskID: BuildTaskID
    public var organizationID: OrganizationID
    public var provenance: String
    public var createdAt: Date

    public init(imageID: ImageID, taskID: BuildTaskID, organizationID: OrganizationID, provenance: String, createdAt: Date) {
        self.imageID = imageID
        self.taskID = taskID
        self.organizationID = organizationID
        self.provenance = provenance
        self.createdAt = createdAt
    }
}

public protocol ImageBuildRepository: Sendable {
    /// Records it; a second report for the same image replaces the first (a retried `succeeded` report).
    func record(_ build: ImageBuildRecord) async throws
    func find(image: ImageID) async throws -> ImageBuildRecord?
    /// The latest record a task's attempts made (the artifact a retry resuming at deployment deploys).
    func latest(task: BuildTaskID) async throws -> ImageBuildRecord?
}
