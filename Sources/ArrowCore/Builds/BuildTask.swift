import Foundation

public enum BuildTaskTag {}
public typealias BuildTaskID = Identifier<BuildTaskTag>

/// Where a build task is in its lifecycle: `queued → running → succeeded | failed | canceled`.
public enum BuildTaskStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, canceled

    /// Queued or running: the task still needs its base image.
    public var isOpen: Bool { self == .queued || self == .running }
}

/// One row of the build queue (`vm_build_tasks`): a base image to customize for an organization. The builder's
/// lease, phases and checkpoints belong to the build-orchestration work and extend this record there.
public struct BuildTask: Sendable, Equatable {
    public var id: BuildTaskID
    public var organizationID: OrganizationID
    public var imageID: ImageID
    /// The device request that asked for this build, when it came from the ARROW platform's trigger.
    public var deviceRequestID: DeviceRequestID?
    public var status: BuildTaskStatus
    public var createdBy: UserID?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: BuildTaskID = .generate(), organizationID: OrganizationID, imageID: ImageID, deviceRequestID: DeviceRequestID? = nil,
        status: BuildTaskStatus = .queued, createdBy: UserID?, createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.imageID = imageID
        self.deviceRequestID = deviceRequestID
        self.status = status
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// The build queue's rows, scoped by organization in the query.
public protocol BuildTaskRepository: Sendable {
    /// Inserts the row as it is. Use ``DataStore/enqueue(_:)``, which first makes sure the image may be built.
    func create(_ task: BuildTask) async throws
    func find(id: BuildTaskID, scope: AccessScope) async throws -> BuildTask?
    /// Returns false when the task is not within `scope`.
    func setStatus(id: BuildTaskID, _ status: BuildTaskStatus, at: Date, scope: AccessScope) async throws -> Bool
}
