import ArrowCore
import SQLKit

/// The ``DataStore`` over SQL (SQLite or PostgreSQL): repositories on the pool, or pinned to a transaction.
public struct SQLDataStore: DataStore {
    public let client: DatabaseClient

    public init(client: DatabaseClient) {
        self.client = client
    }

    public var repositories: Repositories { Self.repositories(on: client.sql) }

    public func transaction<R: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> R) async throws -> R {
        try await client.transaction { db in try await body(Self.repositories(on: db)) }
    }

    public func statements<R: Sendable>(_ body: @escaping @Sendable (Repositories) async throws -> R) async throws -> R {
        client.dialect == .sqlite ? try await transaction(body) : try await body(repositories)
    }

    public func ping() async throws {
        _ = try await client.sql.raw("SELECT 1 AS one").first()
    }

    static func repositories(on db: any SQLDatabase) -> Repositories {
        Repositories(
            organizations: SQLOrganizationRepository(db: db), users: SQLUserRepository(db: db),
            tokens: SQLAPITokenRepository(db: db), audit: SQLAuditLogRepository(db: db),
            images: SQLImageRepository(db: db), uploadAttempts: SQLUploadAttemptRepository(db: db),
            uploadSessions: SQLUploadSessionRepository(db: db), collections: SQLCollectionRepository(db: db),
            metadataFiles: SQLMetadataFileRepository(db: db), buildTasks: SQLBuildTaskRepository(db: db),
            deviceRequests: SQLDeviceRequestRepository(db: db), imageUsage: SQLImageUsageRepository(db: db),
            serverInstances: SQLServerInstanceRepository(db: db),
            builders: SQLBuilderRepository(db: db), outbox: SQLOutboxRepository(db: db),
            taskLogs: SQLTaskLogRepository(db: db), clientConfigs: SQLClientConfigRepository(db: db),
            buildHistory: SQLBuildHistoryRepository(db: db), notifications: SQLNotificationRepository(db: db),
            webhooks: SQLWebhookRepository(db: db), imageBuilds: SQLImageBuildRepository(db: db),
            buildServers: SQLBuildServerRepository(db: db), buildTemplates: SQLBuildTemplateRepository(db: db))
    }
}
