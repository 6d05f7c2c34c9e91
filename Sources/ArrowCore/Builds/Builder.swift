import Foundation

public enum BuilderTag {}
public typealias BuilderID = Identifier<BuilderTag>

/// A builder worker as it registered itself: who runs it (its service account), what it can build, and when the
/// queue last heard from it.
public struct Builder: Sendable, Equatable {
    public var id: BuilderID
    /// The service account the builder authenticates as.
    public var accountID: UserID
    /// Nil for a global builder (a superuser's service account), else the one organization it builds for.
    public var organizationID: OrganizationID?
    public var name: String
    public var version: String
    public var deviceTypes: Set<DeviceType>
    /// Build servers it runs on; a task that names a build server goes only to a builder that lists it.
    public var buildServers: Set<String>
    /// The Ansible roles it can run.
    public var roles: Set<String>
    public var currentTaskID: BuildTaskID?
    public var registeredAt: Date
    public var lastSeenAt: Date

    public init(
        id: BuilderID, accountID: UserID, organizationID: OrganizationID?, name: String, version: String,
        deviceTypes: Set<DeviceType>, buildServers: Set<String>, roles: Set<String> = [], currentTaskID: BuildTaskID? = nil,
        registeredAt: Date, lastSeenAt: Date
    ) {
        self.roles = roles
        self.id = id
        self.accountID = accountID
        self.organizationID = organizationID
        self.name = name
        self.version = version
        self.deviceTypes = deviceTypes
        self.buildServers = buildServers
        self.currentTaskID = currentTaskID
        self.registeredAt = registeredAt
        self.lastSeenAt = lastSeenAt
    }
}

public protocol BuilderRepository: Sendable {
    /// Inserts or updates the builder named `builder.name` for its account; returns the stored row (its id is kept
    /// across re-registrations).
    func register(_ builder: Builder) async throws -> Builder
    func find(id: BuilderID) async throws -> Builder?
    func seen(id: BuilderID, currentTask: BuildTaskID?, at: Date) async throws
    /// Builders that may build for `scope`'s organizations (global builders included), most recently seen first.
    func list(scope: AccessScope) async throws -> [Builder]
}
