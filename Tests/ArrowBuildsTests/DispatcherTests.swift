import ArrowApp
import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowProtocol
import ArrowTesting
import Foundation
import Testing

/// The outbox dispatcher against a loopback fake GitHub that checks every request and answers 204, 429 with
/// Retry-After, and 500 in turn.
@Suite struct DispatcherTests {
    @Test(arguments: TestBackend.allCases)
    func everyTriggerIsDeliveredOnceThroughRateLimitsAndErrors(_ backend: TestBackend) async throws {
        let secret = "ghp_dispatch_secret_\(UUID().uuidString.prefix(8))"
        let github = try await FakeGitHub.start(token: secret, script: [
            .init(204), .init(429, headers: ["Retry-After": "1", "x-ratelimit-remaining": "0"]), .init(500),
        ])
        defer { Task { await github.stop() } }
        try await QueueFixture.with(backend) { f, _ in
            let image = try await f.image(f.alpha)
            let trigger = BuildTrigger(store: f.store, wakeups: f.wakeups)
            for id in ["dr-a", "dr-b", "dr-c"] {
                _ = try await trigger.trigger(ImagingTriggerPayload(
                    requestId: id, deviceType: "pvm", images: [.init(id: image.rawValue, name: "base", metadata: ["os": .string("debian")])],
                    organization: f.alpha.id.rawValue, client: "acme", timestamp: "2026-11-30T10:30:00Z"), principal: f.admin)
                try await Task.sleep(for: .milliseconds(5))
            }
            let dispatcher = OutboxDispatcher(
                store: f.store, transport: HTTPDispatchTransport(), settings: DispatchSettings(url: github.url, secret: secret),
                jitter: { 0 })
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                try await dispatcher.deliverDue()
                let all = try await f.store.repositories.outbox.list(scope: .all, limit: 10)
                if all.allSatisfy({ $0.0.status == .delivered }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(github.violations.isEmpty, "\(github.violations)")
            let bodies = github.deliveries.filter { $0.answered == 204 }.map(\.body)
            for id in ["dr-a", "dr-b", "dr-c"] {
                #expect(bodies.filter { $0.contains(#""request_id":"\#(id)""#) }.count == 1, "\(id) delivered once")
            }
            let first = try #require(bodies.first)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            #expect(json["event_type"] as? String == "vm_imaging_request")
            let payload = try #require(json["client_payload"] as? [String: Any])
            #expect(payload["device_type"] as? String == "pvm" && payload["client"] as? String == "acme")
            #expect(((payload["images"] as? [[String: Any]])?.first?["metadata"] as? [String: Any])?["os"] as? String == "debian")

            let messages = try await f.backends.builds.dispatches(principal: f.admin, limit: 10)
            let history = Dictionary(uniqueKeysWithValues: messages.map { ($0.0.subject, $0.1.map(\.httpStatus)) })
            #expect(history["device_request:dr-a"] == [204])
            #expect(history["device_request:dr-b"] == [429, 204])
            #expect(history["device_request:dr-c"] == [500, 204])
            let b = try #require(messages.first { $0.0.subject == "device_request:dr-b" })
            #expect(b.1[1].at.timeIntervalSince(b.1[0].at) >= 0.9, "Retry-After: 1 was honoured")
            #expect(messages.allSatisfy { $0.0.status == .delivered && $0.0.deliveredAt != nil })
            #expect(try await f.backends.builds.dispatches(principal: f.betaAdmin, limit: 10).isEmpty)
            // The token went out in the header and nowhere else.
            #expect(github.deliveries.allSatisfy { !$0.body.contains(secret) })
            #expect(messages.allSatisfy { message in
                !(message.0.lastError ?? "").contains(secret) && message.1.allSatisfy { !($0.error ?? "").contains(secret) }
            })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func withoutAWebhookURLTheDispatchIsSkippedAndTheTaskStillQueued(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { f, queue in
            let image = try await f.image(f.alpha)
            _ = try await BuildTrigger(store: f.store, wakeups: f.wakeups).trigger(ImagingTriggerPayload(
                requestId: "dr-n", deviceType: "vm", images: [.init(id: image.rawValue, name: "base")],
                organization: f.alpha.id.rawValue, client: "acme", timestamp: "2026-11-30T10:30:00Z"), principal: f.admin)
            let dispatcher = OutboxDispatcher(store: f.store, transport: HTTPDispatchTransport(), settings: DispatchSettings(url: nil, secret: nil))
            #expect(try await dispatcher.deliverDue() == 1)
            #expect(try await dispatcher.deliverDue() == 0)
            #expect(try await f.store.repositories.outbox.list(scope: .all, limit: 5).first?.0.status == .skipped)
            #expect(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder) != nil)
        }
    }

    @Test func aPayloadOverGitHubsLimitIsRefusedAtTheTrigger() throws {
        let big = ImagingTriggerPayload(
            requestId: "dr", deviceType: "vm", images: [.init(id: "i", name: "n", metadata: ["blob": .string(String(repeating: "x", count: 70_000))])],
            organization: "o", client: "c", timestamp: "2026-11-30T10:30:00Z")
        let error = #expect(throws: ArrowError.self) { try GitHubDispatch.body(big) }
        #expect(error?.publicCode == "payload_too_large")
    }
}
