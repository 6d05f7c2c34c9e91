import ArrowCore
import Foundation

/// The build side of the API, over one database: the queue, the triggers, and what admins read of the outbox.
public struct BuildServices: Sendable {
    public let store: any DataStore
    public let wakeups: TaskWakeups
    public let queue: BuildQueue
    public let trigger: BuildTrigger
    public let logs: BuildLogs
    public let configs: BuildConfigs
    public let webhooks: Webhooks
    public let notifications: Notifications
    public let servers: BuildServers
    public let templates: BuildTemplates
    public let scheduler: TemplateScheduler
    public let failures: BuildFailures
    /// Seals the secrets of ClientConfigs and webhooks.
    public let box: SecretBox

    /// `box`: nil gives a key that lives as long as this process (tests); servers pass the configured one.
    public init(
        store: any DataStore, blobs: any BlobStore, wakeups: TaskWakeups = TaskWakeups(), settings: QueueSettings = QueueSettings(),
        box: SecretBox? = nil, allowPrivateWebhooks: Bool = false, probe: (any BuildServerProbe)? = nil, observe: @escaping QueueObserver = { _ in }
    ) {
        let box = box ?? SecretBox.ephemeral()
        self.box = box
        self.servers = BuildServers(store: store, box: box, probe: probe)
        self.configs = BuildConfigs(store: store, blobs: blobs, box: box)
        self.webhooks = Webhooks(store: store, box: box, allowPrivateAddresses: allowPrivateWebhooks)
        self.notifications = Notifications(store: store)
        self.store = store
        self.logs = BuildLogs(store: store, blobs: blobs)
        self.wakeups = wakeups
        self.queue = BuildQueue(store: store, wakeups: wakeups, settings: settings, observe: observe)
        self.trigger = BuildTrigger(store: store, wakeups: wakeups)
        self.templates = BuildTemplates(store: store, trigger: trigger)
        self.scheduler = TemplateScheduler(templates: templates)
        self.failures = BuildFailures(store: store)
    }

    /// Dispatch messages with their attempts, newest first.
    public func dispatches(principal: Principal, limit: Int) async throws -> [(OutboxMessage, [DeliveryAttempt])] {
        try principal.requireHuman()
        try principal.require(.buildTrigger)
        return try await store.repositories.outbox.list(scope: principal.scope, limit: limit)
    }

    public func deviceRequests(principal: Principal, status: DeviceRequestStatus?, limit: Int) async throws -> [DeviceRequest] {
        try principal.requireHuman()
        try principal.require(.buildRead)
        return try await store.repositories.deviceRequests.list(scope: principal.scope, status: status, limit: limit)
    }

    public func deviceRequest(_ id: String, principal: Principal) async throws -> (DeviceRequest, [BuildTask]) {
        try principal.requireHuman()
        try principal.require(.buildRead)
        guard let request = try await store.repositories.deviceRequests.find(id: DeviceRequestID(id), scope: principal.scope) else {
            throw ArrowError.notFound("Device request")
        }
        let tasks = try await store.repositories.buildTasks.list(BuildTaskFilter(deviceRequestID: request.id), scope: principal.scope, limit: 1000)
        return (request, tasks)
    }
}
