import ArrowCore
import ArrowProtocol
import Foundation

/// How long leases last and how often a lost one may be retried.
public struct QueueSettings: Sendable, Equatable {
    /// A lease the builder does not extend ends after this long (osbuild-composer: 120 s).
    public var leaseSeconds: Int
    /// What the claim answer tells builders: heartbeat this often.
    public var heartbeatInterval: Int
    /// Lost leases a task survives before it fails with `missing_heartbeat` (osbuild-composer: 2).
    public var maxLeaseLosses: Int
    /// The longest a claim may long-poll.
    public var maxWait: Int

    public init(leaseSeconds: Int = 120, heartbeatInterval: Int = 30, maxLeaseLosses: Int = 2, maxWait: Int = 60) {
        self.leaseSeconds = leaseSeconds
        self.heartbeatInterval = heartbeatInterval
        self.maxLeaseLosses = maxLeaseLosses
        self.maxWait = maxWait
    }
}

/// The queue's rules: who may claim what, what a status report may do, cancel, retry and the lease sweep. The
/// state moves are ``BuildTaskState``'s; this type loads, applies and writes them back with a compare-and-set.
public struct BuildQueue: Sendable {
    public let store: any DataStore
    let wakeups: TaskWakeups
    public let settings: QueueSettings
    let now: @Sendable () -> Date
    let registered = RegisteredBuilders()
    let observe: QueueObserver

    public init(
        store: any DataStore, wakeups: TaskWakeups, settings: QueueSettings, now: @escaping @Sendable () -> Date = Date.init,
        observe: @escaping QueueObserver = { _ in }
    ) {
        self.observe = observe
        self.store = store
        self.wakeups = wakeups
        self.settings = settings
        self.now = now
    }

    // MARK: Builders

    /// Takes the oldest task the builder can build, waiting up to `request.wait` seconds for one. Nil: none came.
    public func claim(_ request: ClaimRequest, principal: Principal) async throws -> ClaimResponse? {
        try Self.requireBuilder(principal)
        let registration = try Self.validate(request.builder)
        let wait = min(max(request.wait ?? 0, 0), settings.maxWait)
        let builder = try await register(registration, principal: principal)
        let started = ContinuousClock.now
        let deadline = started + .seconds(wait)
        while true {
            let generation = wakeups.generation
            if let task = try await claimOnce(builder: builder, scope: principal.scope) {
                observe(.claimed(latency: ContinuousClock.now - started))
                return ClaimResponse(
                    task: BuildTaskRecord(task),
                    lease: LeaseGrant(attempt: task.state.attempt, token: task.state.leaseToken ?? "", expiresIn: settings.leaseSeconds,
                                      heartbeatInterval: settings.heartbeatInterval),
                    builderId: builder.id.rawValue)
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, !Task.isCancelled else { return nil }
            // Re-check at least every 5 s, in case a wake-up was lost (a listener reconnecting).
            let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18
            await wakeups.wait(after: generation, upTo: min(seconds, 5))
        }
    }

    /// Records the builder as it describes itself; a builder claiming again with the same description within a
    /// minute is not written again (claims are the hot path).
    private func register(_ registration: ValidRegistration, principal: Principal) async throws -> Builder {
        let key = RegisteredBuilders.Key(account: principal.user.id, registration: registration)
        if let known = registered.recent(key, now: now()) { return known }
        let at = now()
        let builder = try await store.transaction { repos in
            try await repos.builders.register(Builder(
                id: .generate(), accountID: principal.user.id, organizationID: principal.user.organizationID, name: registration.name,
                version: registration.version, deviceTypes: registration.deviceTypes, buildServers: registration.buildServers,
                roles: registration.roles, registeredAt: at, lastSeenAt: at))
        }
        registered.remember(key, builder, now: at)
        return builder
    }

    /// The claim statement, then the builder's and the device request's bookkeeping, each atomic on its own: the
    /// claim is the only write that must be, and a crash between them leaves a running task whose builder record
    /// lags (the next heartbeat or claim updates it).
    private func claimOnce(builder: Builder, scope: AccessScope) async throws -> BuildTask? {
        let token = Self.leaseToken()
        let leaseSeconds = settings.leaseSeconds
        return try await store.statements { repos in
            guard let task = try await repos.buildTasks.claim(for: builder, scope: scope, token: token, leaseSeconds: leaseSeconds)
            else { return nil }
            try await repos.builders.seen(id: builder.id, currentTask: task.id, at: Date())
            if let request = task.deviceRequestID {
                _ = try await repos.deviceRequests.advance(id: request, from: .pending, to: .imaging, at: Date())
            }
            return task
        }
    }

    /// Applies a builder's report under its lease. A report from an older attempt is `409 stale_lease`; a heartbeat
    /// for a canceled task answers `cancel: true`.
    public func report(_ report: TaskStatusReport, principal: Principal) async throws -> TaskStatusReply {
        try Self.requireBuilder(principal)
        let lease = BuildTaskState.Lease(attempt: report.attempt, token: report.leaseToken)
        let scope = principal.scope
        let settings = self.settings
        return try await store.transaction { repos in
            guard var task = try await repos.buildTasks.find(id: BuildTaskID(report.taskId), scope: scope) else {
                throw ArrowError.notFound("Build task")
            }
            let before = task.state
            var extend: Int? = settings.leaseSeconds
            do {
                switch report.event {
                case .heartbeat:
                    if try task.state.heartbeat(lease: lease) == .cancel {
                        return TaskStatusReply(status: task.status.rawValue, cancel: true, leaseExpiresIn: 0)
                    }
                case .phase:
                    guard let name = report.phase, let phase = BuildPhase(rawValue: name) else {
                        throw ArrowError(.unprocessable, reason: "invalid_phase",
                                         "phase must be one of \(BuildPhase.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    try Self.validate(progress: report.progress)
                    try task.state.advance(to: phase, progress: report.progress, lease: lease)
                case .succeeded:
                    let artifact = try await Self.artifact(report.artifactImageId, of: task, repos)
                    try task.state.succeed(artifact: artifact, lease: lease)
                    extend = nil
                    try await Self.recordProvenance(report.provenance, of: artifact, task, repos)
                    try await Self.recordDevice(report.provenance, artifact: artifact, task, repos)
                case .failed:
                    guard let name = report.errorCode, let code = BuildFailureCode(rawValue: name) else {
                        throw ArrowError(.unprocessable, reason: "invalid_error_code",
                                         "error_code must be one of \(BuildFailureCode.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    try task.state.fail(code, message: String((report.message ?? "").prefix(4000)), lease: lease)
                    extend = nil
                    // Deployment failed after the artifact was stored: the artifact keeps its provenance (and the
                    // verification that failed), so it can be inspected and never mistaken for a verified image.
                    try await Self.recordProvenance(report.provenance, of: try await Self.artifact(report.artifactImageId, of: task, repos), task, repos)
                }
            } catch let error as BuildTransitionError {
                throw error.arrowError
            }
            guard try await repos.buildTasks.write(task, expecting: before, leaseSeconds: extend) else {
                // The row moved between the read and the write: only another attempt can have moved it.
                throw BuildTransitionError.staleLease.arrowError
            }
            if let builder = task.builderID {
                try await repos.builders.seen(id: builder, currentTask: task.status.isOpen ? task.id : nil, at: Date())
            }
            if let (phase, duration) = try await BuildEvents.moved(from: before, to: task, repos, at: Date()) {
                observe(.phaseEnded(phase: phase, status: task.status, duration: duration))
            }
            if !task.status.isOpen {
                try await Self.settle(task.deviceRequestID, repos)
                observe(.finished(status: task.status, code: task.state.errorCode, duration: task.startedAt.map { Date().timeIntervalSince($0) }))
            }
            return TaskStatusReply(status: task.status.rawValue, cancel: false, leaseExpiresIn: extend ?? 0)
        }
    }

    // MARK: People

    public func find(_ id: String, principal: Principal) async throws -> BuildTask {
        try principal.require(.buildRead)
        guard let task = try await store.repositories.buildTasks.find(id: BuildTaskID(id), scope: principal.scope) else {
            throw ArrowError.notFound("Build task")
        }
        return task
    }

    /// For a builder: queued tasks in its reach; for people: the organization's tasks (`filter` applies to both).
    public func list(_ filter: BuildTaskFilter, principal: Principal, limit: Int) async throws -> [BuildTask] {
        var filter = filter
        if principal.user.kind == .service {
            try Self.requireBuilder(principal)
            filter.status = .queued
        } else {
            try principal.require(.buildRead)
        }
        return try await store.repositories.buildTasks.list(filter, scope: principal.scope, limit: limit)
    }

    /// The task's summary.log says who canceled it and when (a builder's own lines stop with its lease, which the
    /// cancel ends), in the line after every sequence a builder may use.
    public func cancel(_ id: String, principal: Principal) async throws -> BuildTask {
        try await change(id, principal: principal, { (state: inout BuildTaskState) throws(BuildTransitionError) in try state.cancel() }) { task, repos in
            let line = "canceled by an administrator (\(principal.user.email)) at \(Date().formatted(.iso8601))\n"
            _ = try await repos.taskLogs.append(TaskLogChunk(
                taskID: task.id, attempt: task.state.attempt, file: .summary, sequence: Self.serverLogSequence, content: line, createdAt: Date()))
        }
    }

    /// The log sequence the server writes its own line at: above every sequence a builder may send (0…10,000,000).
    static let serverLogSequence = 10_000_001

    /// A new attempt of a failed or canceled task, resuming after its last completed phase unless `fresh`.
    public func retry(_ id: String, fresh: Bool, principal: Principal) async throws -> BuildTask {
        let task = try await change(id, principal: principal) { (state: inout BuildTaskState) throws(BuildTransitionError) in try state.retry(fresh: fresh) }
        wakeups.signal()
        return task
    }

    private func change(
        _ id: String, principal: Principal, _ transition: @escaping @Sendable (inout BuildTaskState) throws(BuildTransitionError) -> Void,
        then record: @escaping @Sendable (BuildTask, Repositories) async throws -> Void = { _, _ in }
    ) async throws -> BuildTask {
        try principal.requireHuman()
        try principal.require(.buildTrigger)
        let scope = principal.scope
        return try await store.transaction { repos in
            guard var task = try await repos.buildTasks.find(id: BuildTaskID(id), scope: scope) else { throw ArrowError.notFound("Build task") }
            let before = task.state
            do throws(BuildTransitionError) { try transition(&task.state) } catch { throw error.arrowError }
            guard try await repos.buildTasks.write(task, expecting: before, leaseSeconds: nil) else {
                throw ArrowError(.conflict, reason: "task_changed", "The task changed while this request ran; read it and try again")
            }
            try await BuildEvents.moved(from: before, to: task, repos, at: Date())
            try await record(task, repos)
            try await Self.settle(task.deviceRequestID, repos)
            return try await repos.buildTasks.find(id: task.id, scope: .all) ?? task
        }
    }

    public func builders(principal: Principal) async throws -> [Builder] {
        try principal.requireHuman()
        try principal.require(.buildRead)
        return try await store.repositories.builders.list(scope: principal.scope)
    }

    // MARK: Sweeper

    /// Returns tasks whose lease ended (by the database's clock) to the queue for a new attempt, or fails them with
    /// `missing_heartbeat` after ``QueueSettings/maxLeaseLosses``. Returns how many it moved.
    @discardableResult
    public func sweepExpiredLeases(limit: Int = 500) async throws -> (requeued: Int, failed: Int) {
        let expired = try await store.repositories.buildTasks.expiredLeases(limit: limit)
        var requeued = 0, failed = 0
        for candidate in expired {
            let moved: BuildTaskStatus? = try await store.transaction { [settings] repos in
                var task = candidate
                let before = task.state
                do { try task.state.leaseExpired(maxLeaseLosses: settings.maxLeaseLosses) } catch { return nil }
                guard try await repos.buildTasks.write(task, expecting: before, leaseSeconds: nil) else { return nil }
                try await BuildEvents.moved(from: before, to: task, repos, at: Date())
                if let builder = task.builderID { try await repos.builders.seen(id: builder, currentTask: nil, at: Date()) }
                if task.status == .failed {
                    try await Self.settle(task.deviceRequestID, repos)
                    observe(.finished(status: .failed, code: .missingHeartbeat, duration: task.startedAt.map { Date().timeIntervalSince($0) }))
                }
                return task.status
            }
            if moved == .queued { requeued += 1 }
            if moved == .failed { failed += 1 }
        }
        if requeued > 0 { wakeups.signal() }
        return (requeued, failed)
    }

    // MARK: Rules

    /// A device request follows its tasks: `imaging` while any runs (or waits again after a retry), then `ready`
    /// when all succeeded, `canceled` when all were canceled, else `failed`.
    static func settle(_ id: DeviceRequestID?, _ repos: Repositories) async throws {
        guard let id, let request = try await repos.deviceRequests.find(id: id, scope: .all) else { return }
        let statuses = try await repos.buildTasks.list(BuildTaskFilter(deviceRequestID: id), scope: .all, limit: 1000).map(\.status)
        let next: DeviceRequestStatus
        if statuses.contains(.running) {
            next = .imaging
        } else if statuses.contains(.queued) {
            next = request.status.isOpen ? request.status : .imaging
        } else if statuses.allSatisfy({ $0 == .succeeded }) {
            next = .ready
        } else if statuses.allSatisfy({ $0 == .canceled }) {
            next = .canceled
        } else {
            next = .failed
        }
        if next != request.status { _ = try await repos.deviceRequests.setStatus(id: id, next, at: Date(), scope: .all) }
    }

    /// The spec's "update device_settings": where the artifact now runs, for the device request it was built for.
    static func recordDevice(_ provenance: BuildProvenance?, artifact: ImageID?, _ task: BuildTask, _ repos: Repositories) async throws {
        guard let request = task.deviceRequestID, let provenance, provenance.deployment != nil || provenance.verification != nil else { return }
        let deployed = provenance.deployment?.target == "proxmox" ? provenance.deployment : nil
        let settings = DeviceSettings(
            vmID: deployed?.vmid, node: deployed?.node, address: deployed?.addresses.first, vpnPeerID: deployed?.netbirdPeerId,
            addresses: deployed?.addresses, vpnAddress: deployed?.netbirdIp, buildServerID: deployed?.buildServerId, imageID: artifact?.rawValue,
            taskID: task.id.rawValue, verification: provenance.verification?.status.rawValue)
        try await repos.deviceRequests.setSettings(id: request, settings, at: Date())
    }

    static func recordProvenance(_ provenance: BuildProvenance?, of artifact: ImageID?, _ task: BuildTask, _ repos: Repositories) async throws {
        guard let artifact, let provenance else { return }
        try await repos.imageBuilds.record(ImageBuildRecord(
            imageID: artifact, taskID: task.id, organizationID: task.organizationID,
            provenance: String(decoding: try WireJSON.encoder().encode(provenance), as: UTF8.self), createdAt: Date()))
    }

    static func artifact(_ id: String?, of task: BuildTask, _ repos: Repositories) async throws -> ImageID? {
        guard let id else { return nil }
        guard try await repos.images.find(id: ImageID(id), scope: .organization(task.organizationID)) != nil else {
            throw ArrowError(.unprocessable, reason: "unknown_artifact", "artifact_image_id names no image of the task's organization")
        }
        return ImageID(id)
    }

    /// A builder service account: leases belong to workers, not to people (superusers included).
    static func requireBuilder(_ principal: Principal) throws {
        try principal.require(.builder)
        guard principal.user.kind == .service else {
            throw ArrowError(.forbidden, reason: "builder_required", "Only a builder service account may do this")
        }
    }

    static func validate(progress: Int?) throws {
        if let progress, !(0...100).contains(progress) {
            throw ArrowError(.unprocessable, reason: "invalid_progress", "progress must be 0…100")
        }
    }

    struct ValidRegistration: Hashable {
        var name: String
        var version: String
        var deviceTypes: Set<DeviceType>
        var buildServers: Set<String>
        var roles: Set<String>
    }

    static func validate(_ registration: BuilderRegistration) throws -> ValidRegistration {
        func check(_ value: String, _ field: String) throws {
            guard (1...128).contains(value.count), value.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "," && !$0.isNewline }) else {
                throw ArrowError(.unprocessable, reason: "invalid_builder", "builder.\(field): 1 to 128 printable characters, no spaces or commas")
            }
        }
        try check(registration.name, "name")
        try check(registration.version, "version")
        var types: Set<DeviceType> = []
        for name in registration.deviceTypes {
            guard let type = DeviceType(rawValue: name) else {
                throw ArrowError(.unprocessable, reason: "invalid_builder", "builder.device_types: unknown device type \(name)")
            }
            types.insert(type)
        }
        guard !types.isEmpty else { throw ArrowError(.unprocessable, reason: "invalid_builder", "builder.device_types names at least one type") }
        for server in registration.buildServers ?? [] { try check(server, "build_servers") }
        guard (registration.roles ?? []).count <= 200 else {
            throw ArrowError(.unprocessable, reason: "invalid_builder", "builder.roles: at most 200 roles")
        }
        for role in registration.roles ?? [] { try check(role, "roles") }
        return ValidRegistration(name: registration.name, version: registration.version, deviceTypes: types,
                                 buildServers: Set(registration.buildServers ?? []), roles: Set(registration.roles ?? []))
    }

    /// 256 random bits, hex: the lease token is a credential for one attempt.
    static func leaseToken() -> String {
        // Not String(format:): on Linux it costs more than the rest of a claim's CPU.
        Hex.random(byteCount: 32)
    }
}
