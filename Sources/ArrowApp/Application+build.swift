import ArrowBuilder
import ArrowAPI
import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowNetwork
import ArrowRegistry
import ArrowStorage
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// The server's composition root: opens the database, applies migrations, wires the services into the API and
/// returns the application, ready to run.
///
/// ```swift
/// let app = try await buildApplication(try await AppConfiguration.load(), logger: logger)
/// try await app.runService()
/// ```
/// - Throws: ``ConfigurationError``, or ``DatabaseError`` when the database cannot be opened or migrated.
public func buildApplication(_ config: AppConfiguration, logger: Logger, builder: BuilderSettings? = nil) async throws -> some ApplicationProtocol {
    ArrowMetrics.bootstrap()
    let backends = try await Backends.open(config, logger: logger)
    let dependencies = APIDependencies(
        identity: backends.identity,
        images: backends.images,
        readiness: { [store = backends.store] in try await store.ping() },
        metrics: { ArrowMetrics.exposition() },
        classifyError: Backends.classify,
        signedStorage: backends.localStore,
        builds: backends.builds,
        console: config.console)
    return Application(
        router: buildRouter(dependencies),
        server: .http1(configuration: .init(
            additionalChannelHandlers: [SlowClientGuard(limits: config.connectionLimits.guardLimits), ExpectContinue(), MalformedRequests()],
            idleTimeout: .milliseconds(Int64(config.connectionLimits.idleTimeout * 1000)))),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "arrow",
                             availableConnectionsDelegate: MaximumAvailableConnections(config.connectionLimits.maxConnections)),
        services: [DatabaseService(client: backends.database),
                   UploadJanitor(registry: backends.images, instance: backends.instance, localStore: backends.localStore, logger: logger)]
            + buildServices(config, backends: backends, logger: logger)
            + (builder.map { [EmbeddedBuilder(config: config, backends: backends, settings: $0, logger: logger)] } ?? [])
            + (backends.localStore.map {
            [StorageJanitor(store: $0, interval: .seconds(3600), maxAge: 24 * 3600, logger: logger)]
        } ?? []),
        logger: logger)
}

/// The queue's background work: the lease sweeper, the outbox dispatcher, and on PostgreSQL the listener that
/// wakes this node's claimers for triggers made on other nodes.
func buildServices(_ config: AppConfiguration, backends: Backends, logger: Logger) -> [any Service] {
    var services: [any Service] = [
        LeaseSweeper(queue: backends.builds.queue, interval: .milliseconds(Int64(config.sweepInterval * 1000)), logger: logger),
        OutboxDispatchService(store: backends.store, settings: config.dispatch, box: backends.builds.box,
                              webhookAddresses: config.allowPrivateWebhooks ? .anyAddress : .publicOnly(),
                              wakeups: backends.builds.wakeups, logger: logger),
        LogArchiver(logs: backends.builds.logs, logger: logger),
        TemplateSchedulerService(scheduler: backends.builds.scheduler, interval: .milliseconds(Int64(config.templateInterval * 1000)), logger: logger),
    ]
    if let listener = backends.database.listener(channel: BuildTaskChannel.name, logger: logger) {
        services.append(TaskNotificationService(listener: listener, wakeups: backends.builds.wakeups))
    }
    return services
}

/// The concrete backends one configuration selects, opened and migrated.
///
/// A class, not a struct: as a struct, every test module emitted its own outlined destroy of it, and after
/// `LocalBlobStore` gained a field an incremental debug build kept a copy that released the wrong field (a crash at
/// the end of `theAuthenticationCacheNeverOutlivesARevocation`; a clean build with the address sanitizer was fine,
/// which points at a stale copy). One deinit, compiled with this module, leaves nothing to go stale.
public final class Backends: Sendable {
    public let database: DatabaseClient
    public let store: SQLDataStore
    public let identity: IdentityService
    public let images: ImageRegistry
    /// Object storage: B2/S3 when configured, else the local store.
    public let blobs: any BlobStore
    /// The local store, when it is the one in use (its presigned URLs are served by this server).
    public let localStore: LocalBlobStore?
    /// This process, as other processes on the same database see it (upload ownership, clean-up after a crash).
    public let instance: ServerInstance
    /// The build queue, triggers and outbox over this database.
    public let builds: BuildServices

    init(
        database: DatabaseClient, store: SQLDataStore, identity: IdentityService, images: ImageRegistry, blobs: any BlobStore,
        localStore: LocalBlobStore?, instance: ServerInstance, builds: BuildServices
    ) {
        self.builds = builds
        self.instance = instance
        self.database = database
        self.store = store
        self.identity = identity
        self.images = images
        self.blobs = blobs
        self.localStore = localStore
    }

    /// Opens the database (creating the data directory for SQLite) and applies pending migrations.
    public static func open(_ config: AppConfiguration, logger: Logger) async throws -> Backends {
        if case .sqlite = config.database.kind {
            do {
                try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
            } catch {
                throw ConfigurationError("Cannot create the data directory \(config.dataDirectory): \(error.localizedDescription)")
            }
        }
        let now = Date()
        let instance = ServerInstance(id: UUID().uuidString.lowercased(), host: ProcessInfo.processInfo.hostName,
                                      pid: Int64(ProcessInfo.processInfo.processIdentifier), startedAt: now, heartbeatAt: now)
        let (blobs, localStore) = try openStorage(config, logger: logger, instance: instance.id)
        let database = try DatabaseClient.open(config.database, logger: logger)
        do {
            try await Migrator(client: database, logger: logger).migrate()
        } catch {
            try? await database.shutdown()
            throw error
        }
        let store = SQLDataStore(client: database)
        let identity = IdentityService(
            store: store, passwords: BcryptPasswordHasher(cost: config.bcryptCost), secrets: RandomTokenSecrets(),
            sessionLifetime: TimeInterval(config.sessionLifetime), cache: AuthenticationCache(ttl: config.authCacheTTL))
        let images = ImageRegistry(store: store, blobs: blobs, limits: config.uploadLimits, instanceID: instance.id, logger: logger)
        return Backends(database: database, store: store, identity: identity, images: images, blobs: blobs, localStore: localStore,
                        instance: instance,
                        builds: BuildServices(store: store, blobs: blobs, settings: config.queue, box: try secretBox(config),
                                              allowPrivateWebhooks: config.allowPrivateWebhooks, probe: ProxmoxProbe(addresses: .buildServers(networks: config.buildServerNetworks)), observe: BuildMetrics.observe))
    }

    /// The configured secrets key, else the data directory's `secrets.key` (created at first start).
    static func secretBox(_ config: AppConfiguration) throws -> SecretBox {
        if let key = config.secretsKey { return try SecretBox(keyBytes: key.value) }
        do {
            return try SecretBox(keyBytes: Data(try LocalPresigner.loadOrCreateKey(at: config.dataDirectory + "/secrets.key")))
        } catch {
            throw ConfigurationError("Cannot read or create \(config.dataDirectory)/secrets.key; set ARROW_SECRETS_KEY instead")
        }
    }

    /// The configured object store, without touching the database.
    public static func openStorage(_ config: AppConfiguration, logger: Logger, instance: String? = nil) throws -> (any BlobStore, LocalBlobStore?) {
        if let s3 = config.s3 { return (S3BlobStore(configuration: s3, logger: logger), nil) }
        let local = try LocalBlobStore(
            root: config.storageRoot, baseURL: config.presignBaseURL,
            secret: try LocalPresigner.loadOrCreateSecret(in: config.dataDirectory), dataDirectory: config.dataDirectory,
            instance: instance)
        return (local, local)
    }

    /// Closes the database pool (for commands that open backends without a service group).
    public func close() async {
        try? await database.shutdown()
    }

    /// Opens the backends for `body` and closes them afterwards, whether it returned or threw.
    public static func using<R>(_ config: AppConfiguration, logger: Logger, _ body: (Backends) async throws -> R) async throws -> R {
        let backends = try await open(config, logger: logger)
        do {
            let result = try await body(backends)
            await backends.close()
            return result
        } catch {
            await backends.close()
            throw error
        }
    }

    /// Infrastructure failures the caller cannot fix become 503 rather than 500.
    @Sendable public static func classify(_ error: any Error) -> ArrowError? {
        if let db = error as? DatabaseError, db.code == .connection {
            return ArrowError(.unavailable, reason: "database_unavailable", "The database is not reachable", cause: error)
        }
        let name = String(reflecting: type(of: error))
        if name.contains("NIOConnectionError") || name.contains("ConnectionPoolError") || name.contains("ChannelError")
            || (name.contains("PSQLError") && String(describing: error).contains("connection")) {
            return ArrowError(.unavailable, reason: "database_unavailable", "The database is not reachable", cause: error)
        }
        return nil
    }
}
