import ArrowApp
@testable import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowProtocol
import ArrowTesting
import Foundation
import Logging
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}

/// Build templates on a manual clock, on SQLite and PostgreSQL: schedule slots fire once, a server down across slots
/// fires once when it is back, two servers on one database fire each slot once, a new base version fires its
/// templates once, and each run's artifact is promoted, recorded as unchanged, or held back by the verification gate.
@Suite struct TemplateSchedulerTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func templates(_ fixture: QueueFixture, _ clock: ManualClock) -> BuildTemplates {
        BuildTemplates(store: fixture.store, trigger: BuildTrigger(store: fixture.store, wakeups: fixture.wakeups), now: { clock.now })
    }

    static func input(_ name: String, base: ImageID, schedule: String? = nil, latest: Bool = false, verify: Bool = false, promote: Bool = false) -> TemplateInput {
        TemplateInput(name: name, definition: BuildTemplate.Definition(baseImageId: base.rawValue, followLatest: latest,
                                                                      options: BuildOptions(ansibleFlags: ["harden_ssh": true], deploymentTarget: BuildOptions.DeploymentTarget.none)),
                      schedule: schedule, timeZone: "UTC", requireVerification: verify, promoteToDefault: promote)
    }

    @Test(arguments: TestBackend.allCases)
    func eachSlotFiresOnce(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { fixture, _ in
            let clock = ManualClock(Self.at("2026-12-01T10:30:00Z"))
            let templates = Self.templates(fixture, clock)
            let scheduler = TemplateScheduler(templates: templates)
            let template = try await templates.create(organization: fixture.alpha.id.rawValue,
                                                      Self.input("nightly", base: try await fixture.image(fixture.alpha), schedule: "0 * * * *"), principal: fixture.admin)
            #expect(template.nextRunAt == Self.at("2026-12-01T11:00:00Z"))
            #expect(try await scheduler.tick(at: Self.at("2026-12-01T10:59:59Z")).fired.isEmpty)
            let first = try await scheduler.tick(at: Self.at("2026-12-01T11:00:04Z")).fired
            #expect(first.map(\.triggerKey) == ["schedule:\(Int64(Self.at("2026-12-01T11:00:00Z").timeIntervalSince1970))"])
            #expect(try await scheduler.tick(at: Self.at("2026-12-01T11:00:30Z")).fired.isEmpty, "the same slot fired twice")
            #expect(try await scheduler.tick(at: Self.at("2026-12-01T11:59:00Z")).fired.isEmpty)
            #expect(try await scheduler.tick(at: Self.at("2026-12-01T12:00:01Z")).fired.count == 1)
            let runs = try await templates.runs(organization: fixture.alpha.id.rawValue, id: template.id.rawValue, principal: fixture.admin, limit: 10)
            #expect(runs.count == 2 && runs.allSatisfy { $0.trigger == .schedule && $0.revision == 1 && $0.taskID != nil })
            // Each run queued a task: the same as a manual build with the template's fields.
            for run in runs {
                let taskID = try #require(run.taskID)
                let task = try #require(try await fixture.store.repositories.buildTasks.find(id: taskID, scope: .all))
                #expect(task.status == .queued && task.options.ansibleFlags == ["harden_ssh": true])
                #expect(task.description == "template nightly revision 1 (schedule)")
            }
            let stored = try await templates.find(organization: fixture.alpha.id.rawValue, id: template.id.rawValue, principal: fixture.admin)
            #expect(stored.nextRunAt == Self.at("2026-12-01T13:00:00Z"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aServerDownAcrossThreeSlotsFiresOnceOnStart(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { fixture, _ in
            let clock = ManualClock(Self.at("2026-12-01T10:30:00Z"))
            let templates = Self.templates(fixture, clock)
            let template = try await templates.create(organization: fixture.alpha.id.rawValue,
                                                      Self.input("hourly", base: try await fixture.image(fixture.alpha), schedule: "0 * * * *"), principal: fixture.admin)
            // Down from 10:30 to 13:20: the 11:00, 12:00 and 13:00 slots pass unseen. The first tick after start fires
            // one run, for the latest slot.
            let restarted = TemplateScheduler(templates: templates)
            let fired = try await restarted.tick(at: Self.at("2026-12-01T13:20:00Z")).fired
            #expect(fired.map(\.triggerKey) == ["schedule:\(Int64(Self.at("2026-12-01T13:00:00Z").timeIntervalSince1970))"])
            #expect(try await restarted.tick(at: Self.at("2026-12-01T13:20:15Z")).fired.isEmpty)
            let runs = try await templates.runs(organization: fixture.alpha.id.rawValue, id: template.id.rawValue, principal: fixture.admin, limit: 10)
            #expect(runs.count == 1)
            #expect(try await fixture.store.repositories.buildTasks.list(BuildTaskFilter(), scope: .all, limit: 100).count == 1)
        }
    }

    /// Two API nodes: two connection pools on one PostgreSQL database, each with its own scheduler, ticking at the
    /// same moments.
    @Test func twoServersOnOnePostgreSQLDatabaseFireEachSlotOnce() async throws {
        try await QueueFixture.with(.postgres) { fixture, _ in
            let clock = ManualClock(Self.at("2026-12-01T10:30:00Z"))
            let base = try await fixture.image(fixture.alpha)
            _ = try await Self.templates(fixture, clock).create(organization: fixture.alpha.id.rawValue, Self.input("every-15", base: base, schedule: "*/15 * * * *"),
                                                                principal: fixture.admin)
            _ = try await Self.templates(fixture, clock).create(organization: fixture.alpha.id.rawValue, Self.input("hourly", base: base, schedule: "@hourly"),
                                                                principal: fixture.admin)
            var second = try #require(fixture.configuration)
            second.databaseConnections = 4
            let other = try await Backends.open(second, logger: Logger(label: "node-2"))
            do {
                let nodeA = TemplateScheduler(templates: Self.templates(fixture, clock))
                let nodeB = TemplateScheduler(templates: BuildTemplates(store: other.store, trigger: BuildTrigger(store: other.store, wakeups: TaskWakeups()),
                                                                         now: { clock.now }))
                var fired = 0
                // Four hours of 15-minute slots: 16 + 4 slots, each ticked by both nodes at once, twice.
                for minute in stride(from: 45, through: 45 + 4 * 60 - 15, by: 15) {
                    let now = Self.at("2026-12-01T10:00:00Z").addingTimeInterval(Double(minute * 60 + 2))
                    for _ in 0..<2 {
                        async let a = nodeA.tick(at: now)
                        async let b = nodeB.tick(at: now)
                        fired += try await a.fired.count + b.fired.count
                    }
                }
                #expect(fired == 16 + 4)
                let keys = try await fixture.store.repositories.buildTasks.list(BuildTaskFilter(), scope: .all, limit: 1000).count
                #expect(keys == 16 + 4, "every fired slot queued exactly one task")
                try await other.database.shutdown()
            } catch {
                try? await other.database.shutdown()
                throw error
            }
        }
    }

    /// A succeeded build of a template's task, reported as a builder would, with the artifact's packages.
    static func build(_ fixture: QueueFixture, _ queue: BuildQueue, packages: [String: String], verification: ImageVerification.Status? = nil) async throws -> ImageID {
        let claim = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: fixture.builder))
        let artifact = try await fixture.image(fixture.alpha, name: "built")
        var provenance = BuildProvenance(
            taskId: claim.task.id, baseImageId: claim.task.imageId, baseSha256: String(repeating: "0", count: 64), configurationHash: "c", software: [],
            ansibleFlags: [:], roles: [:], builderVersion: "test", phaseSeconds: [:],
            packages: packages.map { BuildProvenance.Package(name: $0.key, version: $0.value, architecture: "amd64") }.sorted { $0.name < $1.name },
            added: [], removed: [], changed: [])
        provenance.verification = verification.map {
            ImageVerification(status: $0, accelerator: "tcg", bootSeconds: 30, totalSeconds: 40, checks: [], verifiedAt: "2026-12-01T12:00:00Z")
        }
        var report = claim.report(.succeeded)
        report.artifactImageId = artifact.rawValue
        report.provenance = provenance
        _ = try await queue.report(report, principal: fixture.builder)
        return artifact
    }

    @Test(arguments: TestBackend.allCases)
    func anUnchangedRebuildIsRecordedAndNotPromotedAChangedOneIsWithItsDiff(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { fixture, queue in
            let clock = ManualClock(Date())
            let templates = Self.templates(fixture, clock)
            let scheduler = TemplateScheduler(templates: templates)
            let org = fixture.alpha.id.rawValue
            let base = try await fixture.image(fixture.alpha)
            // Each run a minute after the last, so "newest first" is well defined.
            func later() { clock.set(clock.now.addingTimeInterval(60)) }
            let template = try await templates.create(organization: org, Self.input("web", base: base, promote: true), principal: fixture.admin)
            try await fixture.store.repositories.collections.setDefaults(organization: fixture.alpha.id, [base], at: Date())
            let packages = ["openssl": "3.0.15-1~deb12u1", "openssh-server": "1:9.2p1-2+deb12u3", "nginx": "1.22.1-9"]

            _ = try await templates.run(organization: org, id: template.id.rawValue, principal: fixture.admin)
            let first = try await Self.build(fixture, queue, packages: packages)
            let settled1 = try await scheduler.tick(at: Date()).settled
            #expect(settled1.map(\.status) == [.promoted])
            #expect(settled1.first?.diff == nil, "the first version has nothing to compare with")

            later()
            _ = try await templates.run(organization: org, id: template.id.rawValue, principal: fixture.admin)
            let same = try await Self.build(fixture, queue, packages: packages)
            let settled2 = try await scheduler.tick(at: Date()).settled
            #expect(settled2.map(\.status) == [.unchanged])
            #expect(settled2.first?.artifactImageID == same && settled2.first?.previousArtifactID == first)
            var current = try await templates.find(organization: org, id: template.id.rawValue, principal: fixture.admin)
            #expect(current.latestArtifactID == first, "an unchanged rebuild was promoted")

            var updated = packages
            updated["openssl"] = "3.0.16-1~deb12u1"
            updated["curl"] = "7.88.1-10+deb12u12"
            later()
            _ = try await templates.run(organization: org, id: template.id.rawValue, principal: fixture.admin)
            let changed = try await Self.build(fixture, queue, packages: updated)
            let settled3 = try await scheduler.tick(at: Date()).settled
            #expect(settled3.map(\.status) == [.promoted])
            let diff = try #require(settled3.first?.diff)
            #expect(diff.changed == [ContentsDiff.Change(name: "openssl", from: "3.0.15-1~deb12u1", to: "3.0.16-1~deb12u1")])
            #expect(diff.added == ["curl 7.88.1-10+deb12u12"] && diff.removed.isEmpty)
            current = try await templates.find(organization: org, id: template.id.rawValue, principal: fixture.admin)
            #expect(current.latestArtifactID == changed)
            // Every artifact records the template and the revision it was built for (its contents' provenance).
            for artifact in [first, same, changed] {
                let stamp = try await scheduler.provenance(of: artifact)?.template
                #expect(stamp?.id == template.id.rawValue && stamp?.name == "web" && stamp?.revision == 1 && stamp?.trigger == "manual", "\(String(describing: stamp))")
            }
            // promote_to_default: the first version was added after the base, and the third took its place.
            let defaults = try await fixture.store.repositories.collections.defaults(organization: fixture.alpha.id)
            #expect(defaults == [base, changed])
            let runs = try await templates.runs(organization: org, id: template.id.rawValue, principal: fixture.admin, limit: 10)
            #expect(runs.map(\.status) == [.promoted, .unchanged, .promoted], "newest first")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFailedVerificationKeepsTheOldVersionAndAlerts(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { fixture, queue in
            let templates = Self.templates(fixture, ManualClock(Date()))
            let scheduler = TemplateScheduler(templates: templates)
            let org = fixture.alpha.id.rawValue
            let template = try await templates.create(organization: org, Self.input("gated", base: try await fixture.image(fixture.alpha), verify: true, promote: true),
                                                      principal: fixture.admin)
            // Webhooks: one for template runs, one for failed builds only (the gated artifact's build succeeded).
            let webhooks = Webhooks(store: fixture.store, box: fixture.backends.builds.box, allowPrivateAddresses: false)
            let (runsHook, _) = try await webhooks.create(organization: org, url: "https://hooks.example.org/runs", events: ["template.settled"],
                                                          principal: fixture.admin)
            let (buildsHook, _) = try await webhooks.create(organization: org, url: "https://hooks.example.org/builds", events: ["build.failed"],
                                                            principal: fixture.admin)
            _ = try await templates.run(organization: org, id: template.id.rawValue, principal: fixture.admin)
            let good = try await Self.build(fixture, queue, packages: ["openssl": "1"], verification: .passed)
            #expect(try await scheduler.tick(at: Date()).settled.map(\.status) == [.promoted])
            _ = try await templates.run(organization: org, id: template.id.rawValue, principal: fixture.admin)
            _ = try await Self.build(fixture, queue, packages: ["openssl": "2"], verification: .failed)
            let settled = try await scheduler.tick(at: Date()).settled
            #expect(settled.map(\.status) == [.notPromoted])
            #expect(settled.first?.message?.contains("boot test failed") == true)
            let current = try await templates.find(organization: org, id: template.id.rawValue, principal: fixture.admin)
            #expect(current.latestArtifactID == good)
            #expect(try await fixture.store.repositories.collections.defaults(organization: fixture.alpha.id) == [good])
            let alerts = try await fixture.store.repositories.notifications.list(user: fixture.admin.user.id, unreadOnly: true, limit: 10)
            #expect(alerts.contains { $0.title.contains("gated") && $0.title.contains("not promoted") && $0.event == .templateSettled })
            #expect(alerts.count == 1, "a promoted run needs no one's attention")

            // template.settled went to its webhook for both runs, in the transactions that settled them; build.failed did not.
            let messages = try await fixture.store.repositories.outbox.list(scope: .all, limit: 50).map(\.0).filter { $0.kind == .organizationWebhook }
            #expect(!messages.contains { $0.webhookID == buildsHook.id })
            let payloads = try messages.filter { $0.webhookID == runsHook.id }
                .map { try WireJSON.decoder().decode(TemplateEventPayload.self, from: Data($0.body.utf8)) }
            #expect(Set(payloads.map(\.run.status)) == ["promoted", "not_promoted"], "\(payloads.map(\.run.status))")
            #expect(payloads.allSatisfy { $0.event == "template.settled" && $0.template.name == "gated" && $0.organizationId == org })
            let held = try #require(payloads.first { $0.run.status == "not_promoted" })
            #expect(held.run.message?.contains("boot test failed") == true && held.run.previousArtifactId == good.rawValue)
            let body = try #require(messages.first { $0.webhookID == runsHook.id }?.body)
            #expect(body.contains("\"occurred_at\"") && body.contains("\"previous_artifact_id\""), "snake_case on the wire: \(body)")
        }
    }

    @Test func thePromotionDecision() {
        let task = { (status: BuildTaskStatus) -> BuildTask in
            var task = BuildTask(organizationID: OrganizationID("o"), imageID: ImageID("i"), deviceType: .vm, client: "", createdBy: nil, createdAt: Date())
            task.state.status = status
            task.state.artifactImageID = status == .succeeded ? ImageID("a") : nil
            return task
        }
        func provenance(_ packages: [String: String], _ verification: ImageVerification.Status?) -> BuildProvenance {
            var p = BuildProvenance(taskId: "t", baseImageId: "b", baseSha256: "", configurationHash: "", software: [], ansibleFlags: [:], roles: [:],
                                    builderVersion: "", phaseSeconds: [:], packages: packages.map { .init(name: $0.key, version: $0.value, architecture: "amd64") },
                                    added: [], removed: [], changed: [])
            p.verification = verification.map { ImageVerification(status: $0, accelerator: "tcg", bootSeconds: 1, totalSeconds: 1, checks: [], verifiedAt: "") }
            return p
        }
        #expect(Promotion.decide(task: task(.failed), requireVerification: false, new: nil, current: nil).status == .failed)
        #expect(Promotion.decide(task: task(.succeeded), requireVerification: false, new: provenance(["a": "1"], nil), current: nil).status == .promoted)
        #expect(Promotion.decide(task: task(.succeeded), requireVerification: false, new: provenance(["a": "1"], nil), current: provenance(["a": "1"], nil)).status == .unchanged)
        // Unchanged wins over the gate: nothing new is nothing to verify.
        #expect(Promotion.decide(task: task(.succeeded), requireVerification: true, new: provenance(["a": "1"], nil), current: provenance(["a": "1"], .passed)).status == .unchanged)
        #expect(Promotion.decide(task: task(.succeeded), requireVerification: true, new: provenance(["a": "2"], nil), current: provenance(["a": "1"], .passed)).status == .notPromoted)
        #expect(Promotion.decide(task: task(.succeeded), requireVerification: true, new: provenance(["a": "2"], .failed), current: nil).status == .notPromoted)
        #expect(Promotion.decide(task: task(.succeeded), requireVerification: true, new: provenance(["a": "2"], .passed), current: provenance(["a": "1"], .passed)).status == .promoted)
    }
}
