import ArrowApp
@testable import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowNetwork
import ArrowProtocol
import ArrowTesting
import Foundation
import Synchronization
import Testing

/// Where this server may connect on an organization's behalf: the address table, the resolver's numeric forms,
/// networks, the build-server policy, and the dispatcher checking and pinning a webhook's address at delivery time, so
/// a name that resolves to a private address then (DNS rebinding) is never reached. Both databases.
@Suite struct OutboundAddressTests {
    /// Answers from a table; counts its lookups.
    final class TableResolver: HostResolver {
        let table: [String: [String]]
        let lookups = Mutex(0)
        init(_ table: [String: [String]]) { self.table = table }
        struct NoSuchName: Error {}
        func addresses(of host: String) async throws -> [IPAddress] {
            lookups.withLock { $0 += 1 }
            guard let found = table[host] else { throw NoSuchName() }
            return found.compactMap { IPAddress(numericHost: $0) }
        }
    }

    @Test func publicAndPrivateAddresses() throws {
        let notPublic = [
            "0.0.0.0", "10.1.2.3", "100.64.0.1", "100.127.255.254", "127.0.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255",
            "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
            "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
            "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "2001:db8::1", "2001::1", "100::1",
            "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::169.254.169.254", "2002:c0a8:0101::1", "::127.0.0.1",
        ]
        for text in notPublic {
            let address = try #require(IPAddress(numericHost: text), "\(text)")
            #expect(!address.isPublic, "\(text) is not public")
        }
        let isPublic = ["1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1", "192.169.0.1",
                        "198.17.255.255", "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8",
                        "64:ff9b::808:808", "2002:0808:0808::1"]
        for text in isPublic {
            let address = try #require(IPAddress(numericHost: text), "\(text)")
            #expect(address.isPublic, "\(text) is public")
        }
    }

    @Test func numericHostsInEveryFormTheResolverTakes() throws {
        for text in ["127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0x7f000001", "0177.0.0.1", "017700000001"] {
            #expect(IPAddress(numericHost: text)?.description == "127.0.0.1", "\(text)")
        }
        #expect(IPAddress(numericHost: "[::1]")?.description == "::1")
        #expect(IPAddress(numericHost: "::ffff:7f00:1")?.description == "::ffff:127.0.0.1")
        for name in ["example.org", "", "127.0.0.1.example.org", "1.2.3.4.5", "localhost"] {
            #expect(IPAddress(numericHost: name) == nil, "\(name) is a name")
        }
    }

    @Test func theSystemResolverAnswersLikeAConnectionWould() async throws {
        let addresses = try await SystemHostResolver().addresses(of: "localhost")
        #expect(!addresses.isEmpty && addresses.allSatisfy { !$0.isPublic })
        // (An unknown name is not tried here: what it gives depends on the machine's DNS, which tests do not own.)
    }

    @Test func thePolicyDecidesFromEveryAddressOfTheHost() async {
        let resolver = TableResolver(["mixed.example": ["93.184.216.34", "10.0.0.5"], "public.example": ["93.184.216.34", "2606:2800::1"]])
        let policy = OutboundAddressPolicy.publicOnly(resolver: resolver)
        #expect(await policy.decide(url: "https://public.example/hook") == .connect(IPAddress(numericHost: "93.184.216.34")))
        guard case .refused(let reason) = await policy.decide(url: "https://mixed.example/hook") else {
            Issue.record("one private address among public ones must refuse the host")
            return
        }
        #expect(reason.hasPrefix("webhook_private_address") && !reason.contains("10.0.0.5"), "the private address is not told")
        guard case .unresolved = await policy.decide(url: "https://gone.example/hook") else { Issue.record("an unknown name is retried"); return }
        guard case .refused = await policy.decide(url: "http://2130706433/") else { Issue.record("a numeric loopback is refused"); return }
        #expect(resolver.lookups.withLock { $0 } == 3, "a numeric host is not looked up")
        #expect(await OutboundAddressPolicy.anyAddress.decide(url: "http://127.0.0.1:9/") == .connect(nil))
    }

    @Test func networksAndTheBuildServerPolicy() async throws {
        let network = try #require(IPNetwork("10.0.0.0/8"))
        #expect(network.contains(IPAddress(numericHost: "10.255.1.2")!) && !network.contains(IPAddress(numericHost: "11.0.0.1")!))
        #expect(!network.contains(IPAddress(numericHost: "::ffff:10.0.0.1")!), "families are not mixed; the policy unwraps mapped addresses")
        #expect(try #require(IPNetwork("192.168.4.0/23")).contains(IPAddress(numericHost: "192.168.5.9")!))
        #expect(!(try #require(IPNetwork("192.168.4.0/23")).contains(IPAddress(numericHost: "192.168.6.1")!)))
        #expect(try #require(IPNetwork("fd00::/8")).contains(IPAddress(numericHost: "fd12::1")!))
        #expect(try #require(IPNetwork("203.0.113.7")).description == "203.0.113.7/32")
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "example.org/8", "10.0.0.0/8/8", ""] { #expect(IPNetwork(bad) == nil, "\(bad)") }

        let resolver = TableResolver(["pve.example": ["10.1.2.3"], "metadata.example": ["169.254.169.254"]])
        let any = OutboundAddressPolicy.buildServers(networks: [], resolver: resolver)
        #expect(await any.decide(url: "https://pve.example:8006") == .connect(IPAddress(numericHost: "10.1.2.3")))
        #expect(await any.decide(url: "http://127.0.0.1:8006") == .connect(IPAddress(numericHost: "127.0.0.1")))
        for url in ["https://metadata.example:8006", "https://169.254.169.254:8006", "https://[fe80::1]:8006", "https://[::ffff:a9fe:a9fe]:8006"] {
            guard case .refused(let reason) = await any.decide(url: url) else { Issue.record("\(url) is link-local"); continue }
            #expect(reason.hasPrefix("build_server_address_refused"))
        }
        let lan = OutboundAddressPolicy.buildServers(networks: [network], resolver: resolver)
        #expect(await lan.decide(url: "https://pve.example:8006") == .connect(IPAddress(numericHost: "10.1.2.3")))
        #expect(await lan.decide(url: "https://[::ffff:10.9.9.9]:8006") == .connect(IPAddress(numericHost: "::ffff:10.9.9.9")))
        for url in ["http://127.0.0.1:8006", "https://192.168.1.10:8006", "https://metadata.example"] {
            guard case .refused(let reason) = await lan.decide(url: url) else { Issue.record("\(url) is outside 10.0.0.0/8"); continue }
            #expect(reason.contains("builds.servers.networks"))
        }
    }

    /// The name passes registration (it is public-looking) and resolves to loopback when the delivery is made: the
    /// receiver, which listens there, gets nothing and the message fails with the code.
    @Test(arguments: TestBackend.allCases)
    func aNameRebindingToAPrivateAddressIsNeverReached(_ backend: TestBackend) async throws {
        try await Self.withFailedBuildWebhook(backend, host: "hooks.rebind.example") { f, receiver, message in
            let resolver = TableResolver(["hooks.rebind.example": ["127.0.0.1"]])
            while try await Self.dispatcher(f, .publicOnly(resolver: resolver)).deliverDue() > 0 {}
            let settled = try #require(try await Self.message(message, f))
            #expect(settled.status == .failed && settled.lastError?.hasPrefix("webhook_private_address") == true, "\(settled)")
            #expect(receiver.deliveries.isEmpty, "the private address was reached")
        }
    }

    /// The connection goes to the address that was checked, not to a second lookup: the name below exists only in the
    /// test's table (no DNS server knows `.example`), so a delivery that arrives was pinned; `Host` still names it.
    @Test(arguments: TestBackend.allCases)
    func aDeliveryConnectsToTheAddressItChecked(_ backend: TestBackend) async throws {
        try await Self.withFailedBuildWebhook(backend, host: "hooks.pinned.example") { f, receiver, message in
            // Unknown at first: the attempt is recorded and retried, not dropped.
            _ = try await Self.dispatcher(f, .checked(by: TableResolver([:]), permitting: { _ in true })).deliverDue()
            let pending = try #require(try await Self.message(message, f))
            #expect(pending.status == .pending && pending.attempts >= 1 && pending.lastError?.contains("did not resolve") == true, "\(pending)")
            #expect(receiver.deliveries.isEmpty)

            let resolver = TableResolver(["hooks.pinned.example": ["127.0.0.1"]])
            let later = Self.dispatcher(f, .checked(by: resolver, permitting: { _ in true }), now: { Date().addingTimeInterval(3600) })
            while try await later.deliverDue() > 0 {}
            #expect(try await Self.message(message, f)?.status == .delivered)
            #expect(receiver.deliveries.count == 1 && receiver.deliveries.first?.authority == "hooks.pinned.example:\(receiver.port)")
        }
    }

    /// A receiver on loopback, and a webhook for build.failed at its URL with `host` instead of 127.0.0.1 (private
    /// addresses allowed at registration, as a public name would pass anyway) that one failed build has queued.
    static func withFailedBuildWebhook(
        _ backend: TestBackend, host: String, _ body: (QueueFixture, FakeGitHub, OutboxMessageID) async throws -> Void
    ) async throws {
        let receiver = try await FakeGitHub.start(token: nil)
        defer { Task { await receiver.stop() } }
        try await QueueFixture.with(backend) { f, queue in
            let url = receiver.url.replacingOccurrences(of: "127.0.0.1", with: host)
            let webhooks = Webhooks(store: f.store, box: f.backends.builds.box, allowPrivateAddresses: true)
            let (hook, _) = try await webhooks.create(organization: f.alpha.id.rawValue, url: url, events: ["build.failed"], principal: f.admin)
            let image = try await f.image(f.alpha)
            _ = try await f.backends.builds.trigger.triggerManual(
                ManualBuildRequest(imageId: image.rawValue, buildType: "vm"), options: BuildOptions(), principal: f.admin)
            let claimed = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder))
            _ = try await queue.report(claimed.report(.failed, code: "disk_space"), principal: f.builder)
            let messages = try await f.store.repositories.outbox.list(scope: .all, limit: 50).map(\.0)
            try await body(f, receiver, try #require(messages.first { $0.webhookID == hook.id }).id)
        }
    }

    static func dispatcher(_ f: QueueFixture, _ addresses: OutboundAddressPolicy, now: @escaping @Sendable () -> Date = Date.init) -> OutboxDispatcher {
        OutboxDispatcher(store: f.store, transport: HTTPDispatchTransport(), settings: DispatchSettings(url: nil, secret: nil),
                         box: f.backends.builds.box, webhookAddresses: addresses, now: now)
    }

    static func message(_ id: OutboxMessageID, _ f: QueueFixture) async throws -> OutboxMessage? {
        try await f.store.repositories.outbox.list(scope: .all, limit: 50).map(\.0).first { $0.id == id }
    }
}
