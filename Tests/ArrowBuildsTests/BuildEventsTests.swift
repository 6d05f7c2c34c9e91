import ArrowApp
@testable import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowNetwork
import ArrowProtocol
import ArrowTesting
import Foundation
import Testing

/// What a task's end writes beside it: phase timings, the requester's notification, organization webhooks (signed,
/// delivered through the outbox), and what the statistics make of it. Both databases.
@Suite struct BuildEventsTests {
    @Test(arguments: TestBackend.allCases)
    func phaseTimingsNotificationsAndStatistics(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { f, queue in
            let image = try await f.image(f.alpha)
            let builds = f.backends.builds
            func manual(notify: Bool) async throws -> BuildTask {
                try await builds.trigger.triggerManual(
                    ManualBuildRequest(imageId: image.rawValue, buildType: "vm", vmName: "lab", notifyOnComplete: notify), options: BuildOptions(),
                    principal: f.admin)
            }
            _ = try await manual(notify: true)
            let first = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder))
            try await Task.sleep(for: .milliseconds(20))
            _ = try await queue.report(first.report(.phase, phase: "customization", progress: 40), principal: f.builder)
            _ = try await queue.report(first.report(.heartbeat), principal: f.builder)
            _ = try await queue.report(first.report(.phase, phase: "finalization", progress: 90), principal: f.builder)
            _ = try await queue.report(first.report(.succeeded), principal: f.builder)

            let task = try await queue.find(first.task.id, principal: f.admin)
            let phases = try await builds.phases(of: task)
            #expect(phases.map(\.phase) == [.preparation, .customization, .finalization])
            #expect(phases.allSatisfy { $0.finishedAt != nil && $0.attempt == 1 })
            #expect(phases[0].finishedAt!.timeIntervalSince(phases[0].startedAt) >= 0.015)
            let record = BuildTaskRecord(task, phases: phases)
            #expect(record.logs?["ansible.log"] == "/api/build-logs/proxy?task=\(task.id.rawValue)&file=ansible.log")

            // The requester hears of it; nobody else does.
            let mine = try await builds.notifications.list(principal: f.admin, unreadOnly: true, limit: 10)
            #expect(mine.count == 1 && mine.first?.event == .succeeded && mine.first?.taskID == task.id)
            #expect(try await builds.notifications.list(principal: f.betaAdmin, unreadOnly: false, limit: 10).isEmpty)
            let notMine = await #expect(throws: ArrowError.self) { try await builds.notifications.markRead(mine[0].id.rawValue, principal: f.betaAdmin) }
            #expect(notMine?.code == .notFound)
            try await builds.notifications.markRead(mine[0].id.rawValue, principal: f.admin)
            try await builds.notifications.markRead(mine[0].id.rawValue, principal: f.admin)
            #expect(try await builds.notifications.list(principal: f.admin, unreadOnly: true, limit: 10).isEmpty)

            // A failure without notify_on_complete writes no notification, but counts in the statistics.
            _ = try await manual(notify: false)
            let second = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder))
            _ = try await queue.report(second.report(.failed, code: "ansible_failed"), principal: f.builder)
            #expect(try await builds.notifications.list(principal: f.admin, unreadOnly: false, limit: 10).count == 1)
            let canceled = try await manual(notify: true)
            _ = try await queue.cancel(canceled.id.rawValue, principal: f.admin)
            #expect(try await builds.notifications.markAllRead(principal: f.admin) == 1)

            let stats = try await builds.statistics(window: 3600, principal: f.admin)
            let group = try #require(stats.byImage.first { $0.key == image.rawValue })
            #expect((group.builds, group.succeeded, group.failed, group.canceled) == (3, 1, 1, 1))
            #expect(group.successRate == 0.5 && group.failures == ["ansible_failed": 1])
            #expect(group.p50Seconds != nil && group.p50Seconds == group.p95Seconds)
            #expect(stats.byOrganization.map(\.key) == [f.alpha.id.rawValue])
            #expect(try await builds.statistics(window: 3600, principal: f.betaAdmin).byImage.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func organizationWebhooksAreSignedDeliveredAndSkippedOnceDeleted(_ backend: TestBackend) async throws {
        // The fake GitHub serves as a plain HTTPS-less receiver here: it records every request's headers and body.
        let receiver = try await FakeGitHub.start(token: nil)
        defer { Task { await receiver.stop() } }
        try await QueueFixture.with(backend) { f, queue in
            let webhooks = Webhooks(store: f.store, box: f.backends.builds.box, allowPrivateAddresses: true)
            let (hook, secret) = try await webhooks.create(organization: f.alpha.id.rawValue, url: receiver.url, events: ["build.failed"], principal: f.admin)
            #expect(secret.hasPrefix("whsec_") && hook.events == [.failed])
            let stored = try #require(try await f.store.repositories.webhooks.find(id: hook.id, scope: .all))
            #expect(!stored.sealedSecret.contains(secret))
            let (doomed, _) = try await webhooks.create(organization: f.alpha.id.rawValue, url: receiver.url, events: [], principal: f.admin)

            let image = try await f.image(f.alpha)
            for _ in 0..<2 {
                _ = try await f.backends.builds.trigger.triggerManual(
                    ManualBuildRequest(imageId: image.rawValue, buildType: "vm"), options: BuildOptions(), principal: f.admin)
            }
            let ok = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder))
            _ = try await queue.report(ok.report(.succeeded), principal: f.builder)
            let bad = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder))
            _ = try await queue.report(bad.report(.failed, code: "disk_space"), principal: f.builder)
            try await webhooks.delete(organization: f.alpha.id.rawValue, webhook: doomed.id.rawValue, principal: f.admin)

            let dispatcher = OutboxDispatcher(store: f.store, transport: HTTPDispatchTransport(), settings: DispatchSettings(url: nil, secret: nil),
                                              box: f.backends.builds.box, webhookAddresses: .anyAddress)
            while try await dispatcher.deliverDue() > 0 {}

            let messages = try await f.store.repositories.outbox.list(scope: .all, limit: 50).map(\.0).filter { $0.kind == .organizationWebhook }
            #expect(messages.filter { $0.webhookID == hook.id }.map(\.status) == [.delivered], "subscribed to build.failed only")
            #expect(messages.filter { $0.webhookID == doomed.id }.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.skipped, .skipped])

            let delivery = try #require(receiver.deliveries.first)
            #expect(receiver.deliveries.count == 1)
            let headers = Dictionary(uniqueKeysWithValues: delivery.headers.map { ($0.key.lowercased(), $0.value) })
            let timestamp = try #require(headers["x-arrow-timestamp"])
            #expect(abs(Double(timestamp)! - Date().timeIntervalSince1970) < 60)
            #expect(headers["x-arrow-signature"] == "sha256=" + SecretBox.signature(secret: secret, message: Data((timestamp + "." + delivery.body).utf8)))
            #expect(headers["x-arrow-event"] == "build.failed" && headers["user-agent"] == "ARROW-VM-Imaging/1.0")
            let payload = try WireJSON.decoder().decode(BuildEventPayload.self, from: Data(delivery.body.utf8))
            #expect(payload.task.id == bad.task.id && payload.task.errorCode == "disk_space")

            // Admins of the organization only, and never the secret again.
            #expect(try await webhooks.list(organization: f.alpha.id.rawValue, principal: f.admin).map(\.id) == [hook.id])
            let foreign = await #expect(throws: ArrowError.self) { try await webhooks.list(organization: f.alpha.id.rawValue, principal: f.betaAdmin) }
            #expect(foreign?.code == .notFound)
        }
    }

    @Test func webhookURLsMustBePublicHTTP() throws {
        for url in ["ftp://example.org/x", "http://user:pw@example.org/", "not a url", "https://"] {
            #expect(throws: ArrowError.self, "\(url)") { try WebhookURL.validate(url, allowPrivate: true) }
        }
        for url in ["http://127.0.0.1:8080/", "http://localhost/", "http://10.2.3.4/", "http://172.20.0.1/", "http://192.168.1.1/",
                    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/",
                    "http://0.0.0.0/", "http://metadata.google.internal/",
                    // The forms the resolver takes that inet_pton does not, and IPv4 inside IPv6.
                    "http://2130706433/", "http://127.1/", "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://[::ffff:7f00:1]/",
                    "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:c0a8:101::1]/", "http://100.64.0.1/", "http://198.18.0.1/",
                    "http://224.0.0.1/", "http://255.255.255.255/", "http://[fe80::1]/", "http://[ff02::1]/", "http://[2001:db8::1]/"] {
            let error = #expect(throws: ArrowError.self, "\(url)") { try WebhookURL.validate(url, allowPrivate: false) }
            #expect(error?.reason == "webhook_private_address", "\(url)")
        }
        try WebhookURL.validate("https://hooks.example.org/arrow", allowPrivate: false)
        try WebhookURL.validate("http://127.0.0.1:9/", allowPrivate: true)
    }
}

@Suite struct BuildStatisticsTests {
    @Test func percentilesAndRatesFollowTheirDefinitions() {
        let org = OrganizationID("o"), image = ImageID("i")
        let builds = (1...20).map { FinishedBuild(organizationID: org, imageID: image, status: .succeeded, errorCode: nil, duration: Double($0)) }
            + [FinishedBuild(organizationID: org, imageID: image, status: .failed, errorCode: .diskSpace, duration: 1000)]
        let stats = BuildStatistics.compute(builds, since: Date(), until: Date(), truncated: false)
        let group = stats.byImage[0]
        #expect(group.p50Seconds == 10 && group.p95Seconds == 19, "nearest rank over succeeded builds only")
        #expect(group.successRate == 20.0 / 21.0)
        #expect(BuildStatistics.percentile([], 0.5) == nil && BuildStatistics.percentile([7], 0.95) == 7)
    }
}
