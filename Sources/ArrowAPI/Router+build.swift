import HTTPTypes
import Logging
import ArrowCore
import ArrowRegistry
import ArrowBuilds
import Hummingbird

/// What the API needs from the rest of the system.
public struct APIDependencies: Sendable {
    public var identity: IdentityService
    public var images: ImageRegistry
    /// Throws when a dependency (the database) does not answer.
    public var readiness: @Sendable () async throws -> Void
    /// The Prometheus exposition text.
    public var metrics: @Sendable () -> String
    /// Maps infrastructure errors to domain errors (see ``ErrorResponses``).
    public var classifyError: @Sendable (any Error) -> ArrowError?
    /// The local store, whose presigned URLs this server serves; nil with B2/S3.
    public var signedStorage: (any ServerSignedStorage)?
    /// The queue, triggers and outbox; by default over the registry's database with default settings.
    public var builds: BuildServices
    /// The web console's cookie and Content-Security-Policy settings.
    public var console: ConsoleSettings

    public init(
        identity: IdentityService, images: ImageRegistry, readiness: @escaping @Sendable () async throws -> Void,
        metrics: @escaping @Sendable () -> String, classifyError: @escaping @Sendable (any Error) -> ArrowError? = { _ in nil },
        signedStorage: (any ServerSignedStorage)? = nil, builds: BuildServices? = nil, console: ConsoleSettings = ConsoleSettings()
    ) {
        self.console = console
        self.builds = builds ?? BuildServices(store: images.store, blobs: images.blobs)
        self.signedStorage = signedStorage
        self.identity = identity
        self.images = images
        self.readiness = readiness
        self.metrics = metrics
        self.classifyError = classifyError
    }
}

/// Builds the router with every route behind ``EdgeMiddleware`` (request id, metrics, errors, authentication).
public func buildRouter(_ dependencies: APIDependencies) -> Router<AppRequestContext> {
    buildAPI(dependencies).router
}

/// The router and every route it serves with what the route demands of its caller.
public func buildAPI(_ dependencies: APIDependencies) -> (router: Router<AppRequestContext>, routes: [DeclaredRoute]) {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: EdgeMiddleware(identity: dependencies.identity, classifyError: dependencies.classifyError))
    let routes = APIRoutes(router: router)
    SystemController(readiness: dependencies.readiness, metrics: dependencies.metrics).register(on: routes)
    AuthController(identity: dependencies.identity).register(on: routes)
    SessionController(identity: dependencies.identity, publicURLIsHTTPS: dependencies.console.publicURLIsHTTPS).register(on: routes)
    ConsoleController(settings: dependencies.console).register(on: routes)
    TokenController(identity: dependencies.identity).register(on: routes)
    OrganizationController(identity: dependencies.identity).register(on: routes)
    SignedStorageController(storage: dependencies.signedStorage).register(on: routes)
    ImageController(registry: dependencies.images).register(on: routes)
    MultipartUploadController(registry: dependencies.images).register(on: routes)
    CollectionController(registry: dependencies.images).register(on: routes)
    MetadataFileController(registry: dependencies.images).register(on: routes)
    BuildController(builds: dependencies.builds).register(on: routes)
    BuilderController(builds: dependencies.builds).register(on: routes)
    BuildEventsController(builds: dependencies.builds).register(on: routes)
    BuildTemplateController(templates: dependencies.builds.templates, failures: dependencies.builds.failures).register(on: routes)
    BuildLogController(logs: dependencies.builds.logs).register(on: routes)
    BuildConfigController(configs: dependencies.builds.configs).register(on: routes)
    BuildServerController(servers: dependencies.builds.servers).register(on: routes)
    ArtifactController(builds: dependencies.builds, registry: dependencies.images).register(on: routes)
    NotificationController(notifications: dependencies.builds.notifications, webhooks: dependencies.builds.webhooks).register(on: routes)
    return (router, routes.declared)
}
