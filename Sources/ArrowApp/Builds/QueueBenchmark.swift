import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowProtocol
import Foundation
import Logging
import SQLKit

/// Measures the queue where builders feel it: `claimers` concurrent builders claim `tasks` queued tasks through
/// ``BuildQueue`` on the configured database, each claim timed. Used by `scripts/bench/queue.sh`.
public enum QueueBenchmark {
    public struct Result: Sendable {
        public var claimers: Int
        public var tasks: Int
        public var claimed: Int
        public var duplicates: Int
        public var seconds: Double
        public var p50: Double
        public var p99: Double

        public var claimsPerSecond: Double { Double(claimed) / seconds }
    }

    /// Runs once per entry of `claimers`, each on a freshly filled queue, in a new database schema state.
    public static func run(_ config: AppConfiguration, tasks: Int, claimers: [Int], logger: Logger) async throws -> [Result] {
        try await Backends.using(config, logger: logger) { backends in
            let identity = backends.identity
            let org = try await identity.createOrganization(name: "bench-\(UUID().uuidString.prefix(8))", actor: nil)
            let (_, issued) = try await identity.createServiceAccount(name: "bench-builder", organization: org.id, actor: nil)
            let builder = try await identity.authenticate(secret: issued.secret)
            let image = try await activeImage(backends.store, organization: org.id)
            let queue = BuildQueue(store: backends.store, wakeups: TaskWakeups(), settings: QueueSettings())
            var results: [Result] = []
            for count in claimers {
                try await fill(backends.store, tasks: tasks, organization: org.id, image: image)
                results.append(try await claimAll(queue, builder: builder, claimers: count, tasks: tasks))
                try await backends.database.sql.raw("DELETE FROM vm_build_tasks").run()
            }
            return results
        }
    }

    /// Milliseconds from a trigger's commit on one node to a long-polling claimer's return on another: the claimer's
    /// node hears of it only through the database (`LISTEN/NOTIFY` on PostgreSQL). `rounds` triggers, one at a time.
    public static func wakeLatency(_ config: AppConfiguration, rounds: Int, logger: Logger) async throws -> [Double] {
        try await Backends.using(config, logger: logger) { backends in
            let identity = backends.identity
            let org = try await identity.createOrganization(name: "wake-\(UUID().uuidString.prefix(8))", actor: nil)
            let email = "wake-\(UUID().uuidString.prefix(8))@bench.test"
            _ = try await identity.createUser(organization: org.id, email: email, name: nil, password: "bench-password", role: .admin, actor: nil)
            let admin = try await identity.authenticate(secret: try await identity.login(email: email, password: "bench-password").secret)
            let (_, issued) = try await identity.createServiceAccount(name: "wake-builder", organization: org.id, actor: nil)
            let builder = try await identity.authenticate(secret: issued.secret)
            let image = try await activeImage(backends.store, organization: org.id)
            let claimerWakeups = TaskWakeups()
            let queue = BuildQueue(store: backends.store, wakeups: claimerWakeups, settings: QueueSettings())
            let otherNode = BuildTrigger(store: backends.store, wakeups: backends.database.dialect == .sqlite ? claimerWakeups : TaskWakeups())
            let listener = backends.database.listener(channel: BuildTaskChannel.name, logger: logger)
            let (listening, ready) = AsyncStream<Void>.makeStream()
            let listen = Task { await listener?.run(onListening: { ready.yield() }, onNotify: { claimerWakeups.signal() }) }
            defer { listen.cancel() }
            if listener != nil { for await _ in listening { break } }
            var latencies: [Double] = []
            let clock = ContinuousClock()
            for round in 0..<rounds {
                async let claimed = queue.claim(ClaimRequest(builder: BuilderRegistration(name: "wake", version: "1", deviceTypes: ["vm"]), wait: 10),
                                                principal: builder)
                try await Task.sleep(for: .milliseconds(150))
                _ = try await otherNode.trigger(ImagingTriggerPayload(
                    requestId: "wake-\(round)-\(UUID().uuidString.prefix(6))", deviceType: "vm", images: [.init(id: image.rawValue, name: "wake")],
                    organization: org.id.rawValue, client: "bench", timestamp: "2026-11-30T10:00:00Z"), principal: admin)
                let committed = clock.now
                guard try await claimed != nil else { continue }
                let elapsed = clock.now - committed
                latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            return latencies.sorted()
        }
    }

    /// An active image row (no bytes: the queue never reads them) for the benchmark's tasks.
    static func activeImage(_ store: any DataStore, organization: OrganizationID) async throws -> ImageID {
        let image = ImageID.generate()
        let now = Date()
        try await store.repositories.images.create(Image(
            id: image, organizationID: organization, name: "bench", description: nil, fileName: "bench.qcow2", fileSize: 1,
            fileType: "application/octet-stream", storageKey: "images/\(image.rawValue)/bench.qcow2", format: "qcow2", virtualSize: 1,
            sha256: String(repeating: "0", count: 64), status: .active, software: [], ansibleFlags: try AnsibleFlags(), version: 1,
            previousVersionID: nil, uploadedBy: nil, createdAt: now, updatedAt: now))
        return image
    }

    static func fill(_ store: any DataStore, tasks: Int, organization: OrganizationID, image: ImageID) async throws {
        let start = Date()
        for batch in stride(from: 0, to: tasks, by: 500) {
            let rows = (batch..<min(tasks, batch + 500)).map {
                BuildTask(organizationID: organization, imageID: image, client: "bench", createdBy: nil, createdAt: start.addingTimeInterval(Double($0) / 1e4))
            }
            try await store.transaction { repos in for row in rows { try await repos.buildTasks.create(row) } }
        }
    }

    static func claimAll(_ queue: BuildQueue, builder: Principal, claimers: Int, tasks: Int) async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let perClaimer = try await withThrowingTaskGroup(of: ([String], [Double]).self) { group in
            for index in 0..<claimers {
                group.addTask {
                    var ids: [String] = []
                    var latencies: [Double] = []
                    let request = ClaimRequest(builder: BuilderRegistration(name: "bench-\(index)", version: "1", deviceTypes: ["vm"]))
                    while true {
                        let before = clock.now
                        guard let claim = try await queue.claim(request, principal: builder) else { break }
                        let elapsed = clock.now - before
                        latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                        ids.append(claim.task.id)
                    }
                    return (ids, latencies)
                }
            }
            return try await group.reduce(into: [([String], [Double])]()) { $0.append($1) }
        }
        let elapsed = clock.now - started
        let ids = perClaimer.flatMap(\.0)
        let latencies = perClaimer.flatMap(\.1).sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Result(
            claimers: claimers, tasks: tasks, claimed: ids.count, duplicates: ids.count - Set(ids).count,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            p50: percentile(0.5), p99: percentile(0.99))
    }
}
