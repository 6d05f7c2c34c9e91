import ArrowApp
import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowProtocol
import ArrowTesting
import Foundation
import Logging

/// A database of one backend with two organizations, an admin and a builder in each, a global builder, and active
/// images: what the queue suites build on.
struct QueueFixture {
    let backends: Backends
    let alpha: Organization
    let beta: Organization
    let admin: Principal
    let betaAdmin: Principal
    let builder: Principal
    let betaBuilder: Principal
    let globalBuilder: Principal
    let wakeups = TaskWakeups()
    /// The configuration the database was opened with (to open it again, as a second API node would).
    var configuration: AppConfiguration?

    var store: SQLDataStore { backends.store }

    static func with<R>(
        _ backend: TestBackend, settings: QueueSettings = QueueSettings(), _ body: (QueueFixture, BuildQueue) async throws -> R
    ) async throws -> R {
        var config = try await backend.freshConfiguration()
        config.databaseConnections = 8
        let backends = try await Backends.open(config, logger: Logger(label: "test"))
        do {
            var fixture = try await QueueFixture(backends: backends)
            fixture.configuration = config
            let result = try await body(fixture, BuildQueue(store: backends.store, wakeups: fixture.wakeups, settings: settings))
            try await backends.database.shutdown()
            return result
        } catch {
            try? await backends.database.shutdown()
            throw error
        }
    }

    init(backends: Backends) async throws {
        self.backends = backends
        let identity = backends.identity
        alpha = try await identity.createOrganization(name: "alpha", actor: nil)
        beta = try await identity.createOrganization(name: "beta", actor: nil)
        func human(_ org: Organization, _ email: String) async throws -> Principal {
            _ = try await identity.createUser(organization: org.id, email: email, name: nil, password: "password1", role: .admin, actor: nil)
            return try await identity.authenticate(secret: try await identity.login(email: email, password: "password1").secret)
        }
        admin = try await human(alpha, "admin@alpha.io")
        betaAdmin = try await human(beta, "admin@beta.io")
        builder = try await identity.authenticate(secret: try await identity.createServiceAccount(name: "b-alpha", organization: alpha.id, actor: nil).1.secret)
        betaBuilder = try await identity.authenticate(secret: try await identity.createServiceAccount(name: "b-beta", organization: beta.id, actor: nil).1.secret)
        globalBuilder = try await identity.authenticate(secret: try await identity.createServiceAccount(name: "b-all", organization: nil, actor: nil).1.secret)
    }

    /// An active image row of `organization` (no bytes: the queue never reads them).
    func image(_ organization: Organization, name: String = "base") async throws -> ImageID {
        let id = ImageID.generate()
        let now = Date()
        try await store.repositories.images.create(Image(
            id: id, organizationID: organization.id, name: name, description: nil, fileName: "\(name).qcow2", fileSize: 1,
            fileType: "application/octet-stream", storageKey: "images/\(id.rawValue)/\(name).qcow2", format: "qcow2", virtualSize: 1,
            sha256: String(repeating: "0", count: 64), status: .active, software: [], ansibleFlags: try AnsibleFlags(), version: 1,
            previousVersionID: nil, uploadedBy: nil, createdAt: now, updatedAt: now))
        return id
    }

    /// `count` queued tasks, inserted in batches of one transaction each.
    @discardableResult
    func enqueue(_ count: Int, image: ImageID, organization: Organization, deviceType: DeviceType = .vm, buildServer: String? = nil) async throws -> [BuildTaskID] {
        var ids: [BuildTaskID] = []
        let start = Date()
        for batch in stride(from: 0, to: count, by: 250) {
            let tasks = (batch..<min(count, batch + 250)).map { index in
                BuildTask(organizationID: organization.id, imageID: image, deviceType: deviceType, buildServerID: buildServer,
                          client: "acme", createdBy: nil, createdAt: start.addingTimeInterval(Double(index) / 1000))
            }
            try await store.transaction { repos in for task in tasks { try await repos.buildTasks.create(task) } }
            ids += tasks.map(\.id)
        }
        return ids
    }

    static func registration(_ name: String = "worker-1", types: [String] = ["vm", "pvm"], servers: [String]? = nil) -> BuilderRegistration {
        BuilderRegistration(name: name, version: "1.0", deviceTypes: types, buildServers: servers)
    }
}

extension ClaimResponse {
    func report(_ event: TaskStatusReport.Event, phase: String? = nil, progress: Int? = nil, code: String? = nil, token: String? = nil, attempt: Int? = nil) -> TaskStatusReport {
        TaskStatusReport(taskId: task.id, attempt: attempt ?? lease.attempt, leaseToken: token ?? lease.token, event: event, phase: phase,
                         progress: progress, errorCode: code, message: code.map { "failed: \($0)" })
    }
}
