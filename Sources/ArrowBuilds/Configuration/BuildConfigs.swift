import ArrowCore
import ArrowProtocol
import Crypto
import Foundation

/// Organizations' ClientConfig (admins read it without secrets and write it) and what a builder holding a lease
/// reads: the organization's ClientConfig with its secrets, and the task's composed ImageConfig.
public struct BuildConfigs: Sendable {
    let store: any DataStore
    let blobs: any BlobStore
    let box: SecretBox
    let now: @Sendable () -> Date
    /// How long the base image's download URL in an ImageConfig lasts.
    let downloadLifetime: TimeInterval

    public init(store: any DataStore, blobs: any BlobStore, box: SecretBox, downloadLifetime: TimeInterval = 3600,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.blobs = blobs
        self.box = box
        self.downloadLifetime = downloadLifetime
        self.now = now
    }

    // MARK: People

    public func view(organization: String, principal: Principal) async throws -> ClientConfigView {
        let id = try await requireAdmin(of: organization, principal)
        let stored = try await store.repositories.clientConfigs.find(organization: id)
        return try view(id, stored)
    }

    /// Replaces the organization's ClientConfig. Secrets left out keep their value, `""` clears one; with
    /// `ifMatch` the write is refused when another came first (`409 revision_mismatch`).
    public func update(organization: String, body: Data, ifMatch: Int?, principal: Principal) async throws -> ClientConfigView {
        let id = try await requireAdmin(of: organization, principal)
        let incoming = try UnknownKeys.decode(ClientConfigDocument.self, from: body, example: .fullExample, reason: "unknown_client_config_field")
        try ClientConfigRules.validate(incoming)
        let box = self.box, at = now()
        let saved = try await store.transaction { repos -> StoredClientConfig in
            let stored = try await repos.clientConfigs.find(organization: id)
            let revision = stored?.revision ?? 0
            if let ifMatch, ifMatch != revision {
                throw ArrowError(.conflict, reason: "revision_mismatch",
                                 "The client config is at revision \(revision), not \(ifMatch); read it again and reapply your change")
            }
            let previous = try stored.map { try Self.open($0, box) }
            let merged = ClientConfigRules.merge(incoming, over: previous)
            let sealed = try ClientConfigRules.mapSecrets(merged) { path, value in try box.seal(value, context: Self.context(id, path)) }
            let next = StoredClientConfig(organizationID: id, document: try Self.encode(sealed), revision: revision + 1, updatedAt: at,
                                          updatedBy: principal.user.id)
            guard try await repos.clientConfigs.save(next, expectedRevision: revision) else {
                throw ArrowError(.conflict, reason: "revision_mismatch", "The client config changed while this request ran; read it and try again")
            }
            try await repos.audit.append(AuditEvent(
                organizationID: id, actorID: principal.user.id, action: .clientConfigUpdated, target: id.rawValue,
                details: ["revision": String(next.revision)], createdAt: at))
            return next
        }
        return try view(id, saved)
    }

    // MARK: Builders

    /// The organization's ClientConfig with its secrets, for a builder holding a live lease on one of its tasks.
    public func clientConfig(organization: String, lease: PresentedLease, principal: Principal) async throws -> BuilderClientConfig {
        let task = try await requireLease(lease, principal)
        guard task.organizationID.rawValue == organization else {
            throw ArrowError(.forbidden, reason: "lease_required", "The lease presented is for a task of another organization")
        }
        let stored = try await store.repositories.clientConfigs.find(organization: task.organizationID)
        return BuilderClientConfig(organizationId: organization, revision: stored?.revision ?? 0,
                                   config: try stored.map { try Self.open($0, box) } ?? ClientConfigDocument())
    }

    /// The task's ImageConfig, for the builder holding its live lease.
    public func imageConfig(task id: String, lease: PresentedLease, principal: Principal) async throws -> ImageConfigDocument {
        guard lease.taskID == nil || lease.taskID == id else {
            throw ArrowError(.forbidden, reason: "lease_required", "The lease presented is for another task")
        }
        var lease = lease
        lease.taskID = id
        let task = try await requireLease(lease, principal)
        let repos = store.repositories
        guard let image = try await repos.images.find(id: task.imageID, scope: .all), image.status == .active else {
            throw ArrowError(.conflict, reason: "image_not_active", "The task's base image is no longer available")
        }
        let client = try await repos.clientConfigs.find(organization: task.organizationID)
        let document = try client.map { try Self.open($0, box) } ?? ClientConfigDocument()
        let download = try blobs.presignGet(try BlobKey(image.storageKey), expiresIn: downloadLifetime)
        var config = try ImageConfigComposer.compose(task: task, image: image, client: document, download: download)
        config.storedArtifact = try await storedArtifact(of: task)
        if config.deploymentTarget == BuildOptions.DeploymentTarget.proxmox.rawValue {
            guard let server = task.buildServerID else {
                throw ArrowError(.unprocessable, reason: "unknown_build_server", "The task deploys to Proxmox VE but names no build server")
            }
            config.proxmox = try await BuildServers(store: store, box: box, probe: nil).target(server: server, organization: task.organizationID)
        }
        return config
    }

    /// The artifact an earlier attempt stored, when this attempt resumes at deployment and the artifact is still
    /// an active image: a retry after a failed deployment deploys it instead of building it again.
    func storedArtifact(of task: BuildTask) async throws -> ImageConfigDocument.StoredArtifact? {
        let repos = store.repositories
        if task.options.deployOnly == true { return try await deployedImage(of: task) }
        guard task.state.completedPhases.contains(.finalization), let record = try await repos.imageBuilds.latest(task: task.id),
              let artifact = try await repos.images.find(id: record.imageID, scope: .all), artifact.status == .active,
              let provenance = record.buildProvenance else { return nil }
        return try stored(artifact, provenance: provenance)
    }

    /// A deploy-only task's artifact: its image as it is, with the provenance of the build that made it (or, for an
    /// uploaded image, one that says only what the image is).
    func deployedImage(of task: BuildTask) async throws -> ImageConfigDocument.StoredArtifact? {
        let repos = store.repositories
        guard let image = try await repos.images.find(id: task.imageID, scope: .organization(task.organizationID)), image.status == .active else {
            return nil
        }
        let recorded = try await repos.imageBuilds.find(image: image.id)?.buildProvenance
        let provenance = recorded ?? BuildProvenance(
            taskId: task.id.rawValue, baseImageId: image.id.rawValue, baseSha256: image.sha256, configurationHash: "",
            software: image.software.map { SoftwareSpec(name: $0.name, version: $0.version, ansibleRole: $0.ansibleRole) },
            ansibleFlags: image.ansibleFlags.all, roles: [:], builderVersion: "", phaseSeconds: [:], packages: [], added: [], removed: [], changed: [])
        return try stored(image, provenance: provenance)
    }

    /// `image` as the artifact a resumed deployment fetches (presigned, checked against its checksum).
    func stored(_ image: Image, provenance: BuildProvenance) throws -> ImageConfigDocument.StoredArtifact {
        let download = try blobs.presignGet(try BlobKey(image.storageKey), expiresIn: downloadLifetime)
        return ImageConfigDocument.StoredArtifact(imageId: image.id.rawValue, size: image.fileSize, sha256: image.sha256,
                                                  downloadUrl: download.url, downloadHeaders: download.headers, provenance: provenance)
    }

    /// The lease a builder presents on a GET (``LeaseHeaders``).
    public struct PresentedLease: Sendable {
        public var taskID: String?
        public var attempt: Int
        public var token: String

        public init(taskID: String?, attempt: Int, token: String) {
            self.taskID = taskID
            self.attempt = attempt
            self.token = token
        }
    }

    /// The running task the lease is live for (by the database's clock), else 403 `lease_required`: configuration
    /// secrets go only to the worker doing that organization's build right now.
    public func requireLease(_ lease: PresentedLease, _ principal: Principal) async throws -> BuildTask {
        try BuildQueue.requireBuilder(principal)
        guard let taskID = lease.taskID else {
            throw ArrowError(.forbidden, reason: "lease_required", "Present the task's lease (\(LeaseHeaders.task), \(LeaseHeaders.attempt), \(LeaseHeaders.token))")
        }
        guard let task = try await store.repositories.buildTasks.leased(id: BuildTaskID(taskID), attempt: lease.attempt, token: lease.token,
                                                                        scope: principal.scope) else {
            throw ArrowError(.forbidden, reason: "lease_required", "No live lease on that task matches the one presented")
        }
        return task
    }

    /// The task a builder uploads an artifact for, under its live lease, and the base image it was built from.
    public func artifactTarget(task id: String, lease: PresentedLease, principal: Principal) async throws -> (BuildTask, Image?) {
        guard lease.taskID == nil || lease.taskID == id else {
            throw ArrowError(.forbidden, reason: "lease_required", "The lease presented is for another task")
        }
        var lease = lease
        lease.taskID = id
        let task = try await requireLease(lease, principal)
        return (task, try await store.repositories.images.find(id: task.imageID, scope: .all))
    }

    // MARK: Storage form

    func requireAdmin(of organization: String, _ principal: Principal) async throws -> OrganizationID {
        try await OrganizationAdmin.require(of: organization, principal, store)
    }

    func view(_ id: OrganizationID, _ stored: StoredClientConfig?) throws -> ClientConfigView {
        guard let stored else { return ClientConfigView(organizationId: id.rawValue, revision: 0, updatedAt: nil, config: .init(), secretsSet: []) }
        // Secrets are redacted from the sealed form: showing a configuration never needs the key.
        let (config, secrets) = ClientConfigRules.redacted(try Self.decode(stored.document))
        return ClientConfigView(organizationId: id.rawValue, revision: stored.revision, updatedAt: stored.updatedAt, config: config, secretsSet: secrets)
    }

    static func open(_ stored: StoredClientConfig, _ box: SecretBox) throws -> ClientConfigDocument {
        try ClientConfigRules.mapSecrets(try decode(stored.document)) { path, value in
            try box.open(value, context: context(stored.organizationID, path))
        }
    }

    static func context(_ organization: OrganizationID, _ path: String) -> String { "client_config/\(organization.rawValue)/\(path)" }

    static func encode(_ document: ClientConfigDocument) throws -> String {
        String(decoding: try WireJSON.encoder().encode(document), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> ClientConfigDocument {
        try WireJSON.decoder().decode(ClientConfigDocument.self, from: Data(text.utf8))
    }
}

/// Who may change an organization's build settings: a person holding `org.admin` (or the given permission) whose reach
/// includes it. Another organization is 404, as if it did not exist.
enum OrganizationAdmin {
    static func require(of organization: String, _ principal: Principal, _ store: any DataStore,
                        needing permission: Permission = .orgAdmin) async throws -> OrganizationID {
        try principal.requireHuman()
        let id = OrganizationID(organization)
        guard principal.scope.includes(id), try await store.repositories.organizations.find(id: id, scope: principal.scope) != nil else {
            throw ArrowError.notFound("Organization")
        }
        try principal.require(permission)
        return id
    }
}

extension ImageBuildRecord {
    /// The recorded provenance, decoded; nil when it cannot be read.
    var buildProvenance: BuildProvenance? { try? WireJSON.decoder().decode(BuildProvenance.self, from: Data(provenance.utf8)) }
}
