import ArrowCore
import ArrowProtocol
import Foundation

/// Turns the ARROW platform's trigger and an administrator's manual build into queued tasks, in one transaction
/// with the device request and the GitHub dispatch that wakes a runner. The same trigger twice creates nothing new.
public struct BuildTrigger: Sendable {
    let store: any DataStore
    let wakeups: TaskWakeups
    let now: @Sendable () -> Date

    public init(store: any DataStore, wakeups: TaskWakeups, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.wakeups = wakeups
        self.now = now
    }

    /// `POST /api/vm-imaging/trigger`. Returns the tasks and whether they were created now.
    public func trigger(_ payload: ImagingTriggerPayload, principal: Principal) async throws -> (tasks: [BuildTask], created: Bool) {
        try principal.requireHuman()
        try principal.require(.buildTrigger)
        let request = try TriggerValidation.deviceRequest(payload, principal: principal, at: now())
        let body = try GitHubDispatch.body(payload)
        // The organization's deployment defaults decide where the platform's builds go.
        let (options, buildServerID) = try await deployment(BuildOptions(), buildServerID: nil, organization: request.organizationID)
        let at = now()
        do {
            let result = try await store.transaction { repos -> (tasks: [BuildTask], created: Bool) in
                if let existing = try await Self.existing(request, repos) { return (existing, false) }
                for image in request.imageIDs { try await Self.requireBuildable(image, for: request.organizationID, repos) }
                try await Self.requireServer(buildServerID, if: options, of: request.organizationID, repos)
                try await repos.deviceRequests.create(request)
                var tasks: [BuildTask] = []
                for image in request.imageIDs {
                    let task = BuildTask(
                        organizationID: request.organizationID, imageID: image, deviceRequestID: request.id,
                        deviceType: DeviceType(rawValue: request.deviceType) ?? .vm, buildServerID: buildServerID, client: request.client,
                        options: options, createdBy: principal.user.id, createdAt: at)
                    try await repos.buildTasks.create(task)
                    tasks.append(task)
                }
                try await repos.outbox.add(OutboxMessage(
                    kind: .githubDispatch, organizationID: request.organizationID, body: body,
                    subject: "device_request:\(request.id.rawValue)", nextAttemptAt: at, createdAt: at))
                try await repos.buildTasks.announce()
                return (tasks, true)
            }
            if result.created { wakeups.signal() }
            return result
        } catch let error as ArrowError {
            throw error
        } catch {
            // Two identical triggers raced and the other inserted the device request first: answer with its tasks.
            if let existing = try await store.transaction({ repos in try await Self.existing(request, repos) }) { return (existing, false) }
            throw error
        }
    }

    /// `POST /api/vm-build/trigger`: one task for one image, with validated build options.
    public func triggerManual(_ body: ManualBuildRequest, options: BuildOptions, principal: Principal) async throws -> BuildTask {
        try principal.requireHuman()
        try principal.require(.imageAdmin)
        try options.validate()
        guard let deviceType = DeviceType(rawValue: body.buildType) else {
            throw ArrowError(.unprocessable, reason: "invalid_build_type", "build_type must be pvm or vm")
        }
        let organization = try TriggerValidation.organization(body.organizationId, principal: principal)
        try TriggerValidation.text(body.buildServerId, "build_server_id", max: 128)
        try TriggerValidation.text(body.clientId, "client_id", max: 128)
        try TriggerValidation.text(body.vmName, "vm_name", max: 128)
        try TriggerValidation.text(body.description, "description", max: 2000)
        let (options, buildServerID) = try await deployment(options, buildServerID: body.buildServerId, organization: organization)
        let at = now()
        let task = BuildTask(
            organizationID: organization, imageID: ImageID(body.imageId), deviceType: deviceType, buildServerID: buildServerID,
            client: body.clientId ?? "", vmName: body.vmName, description: body.description, options: options,
            notifyOnComplete: body.notifyOnComplete ?? false, createdBy: principal.user.id, createdAt: at)
        try await store.transaction { repos in
            try await Self.requireBuildable(task.imageID, for: organization, repos)
            try await Self.requireServer(buildServerID, if: options, of: organization, repos)
            let image = try await repos.images.find(id: task.imageID, scope: .all)
            try await Self.enqueue(task, requestID: "manual-\(task.id.rawValue)", imageName: body.imageName ?? image?.name ?? "", at: at, repos)
        }
        wakeups.signal()
        return task
    }

    /// `POST /api/vm_images/{id}/deploy` (`arrow deploy`): a task that deploys an image of the caller's organization
    /// as it is — queued like a build, claimed by a builder, starting at the deployment phase with the image as its
    /// artifact (a local boot test with `qemu`, a VM with `proxmox`); its result is kept with the image.
    public func triggerDeploy(image id: String, target: BuildOptions.DeploymentTarget, buildServerID: String?, vmName: String?, keepOnFailure: Bool?,
                              principal: Principal) async throws -> BuildTask {
        try principal.requireHuman()
        try principal.require(.imageAdmin)
        guard target == .qemu || target == .proxmox else {
            throw ArrowError(.unprocessable, reason: "unsupported_deployment_target",
                             "target must be qemu or proxmox (publish for download with PUT /api/vm_images/{id}/download)")
        }
        try TriggerValidation.text(buildServerID, "build_server_id", max: 128)
        try TriggerValidation.text(vmName, "vm_name", max: 128)
        guard let organization = principal.user.organizationID else {
            throw ArrowError(.unprocessable, reason: "organization_required", "Deploy as a member of the image's organization")
        }
        let (options, server) = try await deployment(BuildOptions(deploymentTarget: target, keepOnFailure: keepOnFailure), buildServerID: buildServerID,
                                                     organization: organization)
        var deploying = options
        deploying.deployOnly = true
        let at = now()
        var task = BuildTask(organizationID: organization, imageID: ImageID(id), deviceType: .vm, buildServerID: server, vmName: vmName,
                             description: "deploy \(id) to \(target.rawValue)", options: deploying, createdBy: principal.user.id, createdAt: at)
        // Nothing to build: a builder starts at the deployment phase.
        task.state.completedPhases = [.preparation, .customization, .finalization]
        let created = task
        try await store.transaction { repos in
            try await Self.requireBuildable(created.imageID, for: organization, repos)
            guard let image = try await repos.images.find(id: created.imageID, scope: .organization(organization)),
                  image.organizationID == organization else {
                throw ArrowError(.unprocessable, reason: "not_owner", "Only an image of your organization can be deployed (its result is kept with it)")
            }
            try await Self.requireServer(server, if: options, of: organization, repos)
            try await Self.enqueue(created, requestID: "deploy-\(created.id.rawValue)", imageName: image.name, at: at, repos)
        }
        wakeups.signal()
        return created
    }

    /// The organization's deployment defaults fill in what the build options leave open; a Proxmox deployment needs
    /// a build server (the trigger's, else the organization's default).
    func deployment(_ options: BuildOptions, buildServerID: String?, organization: OrganizationID) async throws -> (BuildOptions, String?) {
        var options = options, buildServerID = buildServerID
        let stored = try await store.repositories.clientConfigs.find(organization: organization)
        let defaults = try stored.map { try BuildConfigs.decode($0.document) }?.deployment
        if options.deploymentTarget == nil, let target = defaults?.target.flatMap(BuildOptions.DeploymentTarget.init(rawValue:)) {
            options.deploymentTarget = target
        }
        if options.deploymentTarget == .proxmox {
            buildServerID = buildServerID ?? defaults?.buildServerId
            guard buildServerID != nil else {
                throw ArrowError(.unprocessable, reason: "build_server_required",
                                 "A proxmox deployment needs build_server_id (or the organization's deployment.build_server_id)")
            }
        }
        return (options, buildServerID)
    }

    /// One task queued with the GitHub dispatch that wakes a runner for it (in the caller's transaction).
    static func enqueue(_ task: BuildTask, requestID: String, imageName: String, at: Date, _ repos: Repositories) async throws {
        try await repos.buildTasks.create(task)
        let payload = ImagingTriggerPayload(
            requestId: requestID, deviceType: task.deviceType.rawValue, images: [.init(id: task.imageID.rawValue, name: imageName, metadata: nil)],
            organization: task.organizationID.rawValue, client: task.client, timestamp: TriggerValidation.timestamp(at))
        try await repos.outbox.add(OutboxMessage(
            kind: .githubDispatch, organizationID: task.organizationID, body: try GitHubDispatch.body(payload),
            subject: "task:\(task.id.rawValue)", nextAttemptAt: at, createdAt: at))
        try await repos.buildTasks.announce()
    }

    static func requireServer(_ id: String?, if options: BuildOptions, of organization: OrganizationID, _ repos: Repositories) async throws {
        guard options.deploymentTarget == .proxmox, let id else { return }
        guard try await repos.buildServers.find(id: id, organization: organization) != nil else {
            throw ArrowError(.unprocessable, reason: "unknown_build_server", "The organization has no build server \(id) (arrow build-server list)")
        }
    }

    /// The tasks of an identical earlier trigger; `request_conflict` when the same id came with other contents.
    static func existing(_ request: DeviceRequest, _ repos: Repositories) async throws -> [BuildTask]? {
        guard let found = try await repos.deviceRequests.find(id: request.id, scope: .all) else { return nil }
        guard found.organizationID == request.organizationID, found.imageIDs == request.imageIDs, found.deviceType == request.deviceType else {
            throw ArrowError(.conflict, reason: "request_conflict", "Device request \(request.id) was already triggered with other images")
        }
        let tasks = try await repos.buildTasks.list(BuildTaskFilter(deviceRequestID: request.id), scope: .all, limit: 1000)
        return request.imageIDs.compactMap { image in tasks.first { $0.imageID == image } }
    }

    /// The image exists, is active, and is in the organization's collection (its own, shared with it, or public);
    /// its row is share-locked so a concurrent delete waits for this transaction.
    static func requireBuildable(_ image: ImageID, for organization: OrganizationID, _ repos: Repositories) async throws {
        guard let status = try await repos.imageUsage.lockForUse(image: image),
              try await repos.collections.entry(image: image, organization: organization) != nil
        else { throw ArrowError.notFound("Image \(image.rawValue)") }
        guard status == .active else {
            throw ArrowError(.conflict, reason: "image_not_active", "Image \(image) is \(status.rawValue), not active")
        }
    }
}

/// The exact body of the GitHub `repository_dispatch`, within GitHub's limits.
public enum GitHubDispatch {
    public static let eventType = "vm_imaging_request"
    /// GitHub refuses a payload over 65,535 characters.
    public static let maxBody = 65_535

    struct Body: Encodable {
        var eventType: String
        var clientPayload: ImagingTriggerPayload
    }

    public static func body(_ payload: ImagingTriggerPayload) throws -> String {
        let data = try WireJSON.encoder().encode(Body(eventType: eventType, clientPayload: payload))
        guard data.count <= maxBody else {
            throw ArrowError(.unprocessable, reason: "payload_too_large",
                             "The GitHub dispatch would be \(data.count) bytes; GitHub accepts at most \(maxBody). Trim the images' metadata")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
