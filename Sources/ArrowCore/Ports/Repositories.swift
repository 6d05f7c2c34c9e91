import Foundation

/// Organizations. Every read takes an ``AccessScope`` and filters in the query.
public protocol OrganizationRepository: Sendable {
    /// - Throws: `conflict` when the name is taken.
    func create(_ organization: Organization) async throws
    func find(id: OrganizationID, scope: AccessScope) async throws -> Organization?
    func find(name: String, scope: AccessScope) async throws -> Organization?
    func list(scope: AccessScope) async throws -> [Organization]
}

/// Users and service accounts.
public protocol UserRepository: Sendable {
    /// - Throws: `conflict` when the email is taken.
    func create(_ user: User) async throws
    func find(id: UserID, scope: AccessScope) async throws -> User?
    /// For login only: looks across organizations, since the email is what identifies the user.
    func find(email: String) async throws -> User?
    func list(organization: OrganizationID, scope: AccessScope) async throws -> [User]
    /// Whether any user holds `role` (bootstrap checks).
    func exists(role: Role) async throws -> Bool
    /// Returns the updated user, or nil when it is not within `scope`.
    func updateRole(id: UserID, role: Role, scope: AccessScope) async throws -> User?
}

/// Bearer tokens (stored as digests).
public protocol APITokenRepository: Sendable {
    func create(_ token: APIToken) async throws
    /// The token with this digest, its owner and the owner's organization, whether or not it is still active.
    func find(digest: String) async throws -> TokenOwner?
    func find(id: TokenID, scope: AccessScope) async throws -> APIToken?
    /// Tokens owned by `user` (never their digests' secrets; those are not stored).
    func list(user: UserID) async throws -> [APIToken]
    /// Marks the token revoked; returns nil when it is not within `scope` or does not exist.
    func revoke(id: TokenID, at: Date, scope: AccessScope) async throws -> APIToken?
}

/// A token with its owner (and the owner's organization, if any): what authentication needs, in one lookup.
public struct TokenOwner: Sendable {
    public var token: APIToken
    public var user: User
    public var organization: Organization?

    public init(token: APIToken, user: User, organization: Organization?) {
        self.token = token
        self.user = user
        self.organization = organization
    }
}

/// The append-only audit log.
public protocol AuditLogRepository: Sendable {
    func append(_ event: AuditEvent) async throws
    /// Newest first.
    func list(scope: AccessScope, limit: Int) async throws -> [AuditEvent]
}

/// All repositories, bound to one database connection or pool.
public struct Repositories: Sendable {
    public var organizations: any OrganizationRepository
    public var users: any UserRepository
    public var tokens: any APITokenRepository
    public var audit: any AuditLogRepository
    public var images: any ImageRepository
    public var uploadAttempts: any UploadAttemptRepository
    public var uploadSessions: any UploadSessionRepository
    public var collections: any CollectionRepository
    public var metadataFiles: any MetadataFileRepository
    public var buildTasks: any BuildTaskRepository
    public var deviceRequests: any DeviceRequestRepository
    public var imageUsage: any ImageUsageRepository
    public var serverInstances: any ServerInstanceRepository
    public var builders: any BuilderRepository
    public var outbox: any OutboxRepository
    public var taskLogs: any TaskLogRepository
    public var clientConfigs: any ClientConfigRepository
    public var buildHistory: any BuildHistoryRepository
    public var notifications: any NotificationRepository
    public var webhooks: any WebhookRepository
    public var imageBuilds: any ImageBuildRepository
    public var buildServers: any BuildServerRepository
    public var buildTemplates: any BuildTemplateRepository

    public init(
        organizations: any OrganizationRepository, users: any UserRepository, tokens: any APITokenRepository,
        audit: any AuditLogRepository, images: any ImageRepository, uploadAttempts: any UploadAttemptRepository,
        uploadSessions: any UploadSessionRepository, collections: any CollectionRepository,
        metadataFiles: any MetadataFileRepository, buildTasks: any BuildTaskRepository,
        deviceRequests: any DeviceRequestRepository, imageUsage: any ImageUsageRepository,
        serverInstances: any ServerInstanceRepository, builders: any BuilderRepository, outbox: any OutboxRepository,
        taskLogs: any TaskLogRepository, clientConfigs: any ClientConfigRepository, buildHistory: any BuildHistoryRepository,
        notifications: any NotificationRepository, webhooks: any WebhookRepository, imageBuilds: any ImageBuildRepository,
        buildServers: any BuildServerRepository, buildTemplates: any BuildTemplateRepository
    ) {
        self.buildTemplates = buildTemplates
        self.imageBuilds = imageBuilds
        self.buildServers = buildServers
        self.clientConfigs = clientConfigs
        self.buildHistory = buildHistory
        self.notifications = notifications
        self.webhooks = webhooks
        self.taskLogs = taskLogs
        self.builders = builders
        self.outbox = outbox
        self.serverInstances = serverInstances
        self.organizations = organizations
        self.users = users
        self.tokens = tokens
        self.audit = audit
        self.images = images
        self.uploadAttempts = uploadAttempts
        self.uploadSessions = uploadSessions
        self.collections = collections
        self.metadataFiles = metadataFiles
        self.buildTasks = buildTasks
        self.deviceRequests = deviceRequests
        self.imageUsage = imageUsage
    }
}

/// The database port: repositories for single statements, and transactions for work that must be atomic.
public protocol DataStore: Sendable {
    var repositories: Repositories { get }
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<R: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> R) async throws -> R
    /// Runs `body`, whose statements are each atomic on their own (a single-statement claim, say): inside a
    /// transaction where the database needs one to serialize writers (SQLite), straight on the pool otherwise
    /// (PostgreSQL: two round trips fewer on the hottest path).
    func statements<R: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> R) async throws -> R
    /// Cheap liveness query for `/readyz`.
    func ping() async throws
}
