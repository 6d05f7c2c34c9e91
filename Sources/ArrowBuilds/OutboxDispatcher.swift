import ArrowCore
import ArrowNetwork
import ArrowProtocol
import Foundation

/// Sends one HTTP request; the App gives the real client, tests may give a fake.
public protocol DispatchTransport: Sendable {
    /// The response's status and rate-limit headers, or a nil status and an error text when nothing came back.
    /// `connectTo`: the address to connect to instead of resolving the URL's host (TLS and `Host` still name the host).
    func post(url: String, headers: [(String, String)], body: String, connectTo: IPAddress?) async -> (DeliveryRetryPolicy.Outcome, error: String?)
}

/// Where GitHub dispatches go: `GITHUB_VM_IMAGING_WEBHOOK_URL` and `GITHUB_VM_IMAGING_WEBHOOK_SECRET`.
public struct DispatchSettings: Sendable, RedactingReflection {
    public var url: String?
    public var secret: Redacted<String>?
    public var policy: DeliveryRetryPolicy

    public init(url: String?, secret: String?, policy: DeliveryRetryPolicy = DeliveryRetryPolicy()) {
        self.url = url
        self.secret = secret.map(Redacted.init)
        self.policy = policy
    }

    public var shownFields: KeyValuePairs<String, Any> { ["url": url as Any, "secret": secret as Any, "policy": policy] }

    /// Exactly the spec's headers, plus the two GitHub asks every REST call to carry.
    var headers: [(String, String)] {
        var headers = [
            ("Content-Type", "application/json"), ("User-Agent", "ARROW-VM-Imaging/1.0"),
            ("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28"),
        ]
        if let secret = secret?.value, !secret.isEmpty { headers.append(("Authorization", "token \(secret)")) }
        return headers
    }
}

/// Delivers the outbox: each due message is taken under a short lock, posted, and its attempt recorded with the
/// next try decided by ``DeliveryRetryPolicy``. At least once: a crash after GitHub answered but before the record
/// is written sends that message again.
public struct OutboxDispatcher: Sendable {
    let store: any DataStore
    let transport: any DispatchTransport
    let settings: DispatchSettings
    let now: @Sendable () -> Date
    let jitter: @Sendable () -> Double
    let observe: QueueObserver
    /// Opens organization webhooks' signing secrets; without it their messages fail.
    let box: SecretBox?
    /// Where webhook deliveries may connect (GitHub's URL is the operator's, not an organization's, and is not checked).
    let webhookAddresses: OutboundAddressPolicy

    public init(
        store: any DataStore, transport: any DispatchTransport, settings: DispatchSettings, box: SecretBox? = nil,
        webhookAddresses: OutboundAddressPolicy = .publicOnly(), now: @escaping @Sendable () -> Date = Date.init,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, observe: @escaping QueueObserver = { _ in }
    ) {
        self.box = box
        self.webhookAddresses = webhookAddresses
        self.observe = observe
        self.store = store
        self.transport = transport
        self.settings = settings
        self.now = now
        self.jitter = jitter
    }

    /// Delivers what is due now, one message at a time (each taken under a lock longer than one attempt can last,
    /// so no other dispatcher sends it meanwhile); returns how many messages it tried.
    @discardableResult
    public func deliverDue(limit: Int = 20) async throws -> Int {
        var tried = 0
        while tried < limit, let message = try await store.repositories.outbox.takeDue(now: now(), limit: 1, leaseSeconds: 60).first {
            try await deliver(message)
            tried += 1
        }
        return tried
    }

    func deliver(_ message: OutboxMessage) async throws {
        var updated = message
        updated.attempts += 1
        let started = now()
        let target: (url: String, headers: [(String, String)])
        var address: IPAddress?
        var unresolved: String?
        switch message.kind {
        case .githubDispatch:
            guard let url = settings.url, !url.isEmpty else {
                return try await settle(message, .skipped, "GITHUB_VM_IMAGING_WEBHOOK_URL is not set; builders take the task from the queue")
            }
            target = (url, settings.headers)
        case .organizationWebhook:
            switch try await webhookTarget(message) {
            case .success(let found): target = found
            case .failure(let reason): return try await settle(message, reason.status, reason.text)
            }
            switch await webhookAddresses.decide(url: target.url) {
            case .connect(let checked): address = checked
            case .refused(let reason): return try await settle(message, .failed, reason)
            case .unresolved(let reason): unresolved = reason
            }
        }
        let clock = ContinuousClock()
        let begin = clock.now
        var (outcome, error) = (DeliveryRetryPolicy.Outcome(status: nil), unresolved)
        if unresolved == nil {
            (outcome, error) = await transport.post(url: target.url, headers: target.headers, body: message.body, connectTo: address)
        }
        observe(.dispatchAttempt(status: outcome.status))
        let elapsed = clock.now - begin
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        updated.lastHTTPStatus = outcome.status
        updated.lastError = outcome.delivered ? nil : (error ?? outcome.status.map { "HTTP \($0)" })
        switch settings.policy.decide(outcome, attempt: updated.attempts, now: now(), jitter: jitter()) {
        case .delivered:
            updated.status = .delivered
            updated.deliveredAt = now()
        case .retry(let at):
            updated.nextAttemptAt = at
        case .giveUp:
            updated.status = .failed
        }
        try await store.repositories.outbox.record(
            DeliveryAttempt(messageID: message.id, number: updated.attempts, at: started, httpStatus: outcome.status,
                            error: updated.lastError, durationMS: milliseconds),
            updated: updated)
    }

    /// Ends a message without sending it, recording why as its one attempt.
    private func settle(_ message: OutboxMessage, _ status: OutboxMessage.Status, _ reason: String) async throws {
        var updated = message
        updated.attempts += 1
        updated.status = status
        updated.lastError = reason
        try await store.repositories.outbox.record(
            DeliveryAttempt(messageID: message.id, number: updated.attempts, at: now(), httpStatus: nil, error: reason, durationMS: 0),
            updated: updated)
    }

    /// The `event` every webhook body starts with (a build's or a template run's).
    struct EventName: Decodable {
        var event: String
    }

    struct Undeliverable: Error {
        var status: OutboxMessage.Status
        var text: String
    }

    /// An organization webhook's URL and signed headers (signed now: each attempt carries a fresh timestamp, so a
    /// receiver may refuse old ones as replays).
    func webhookTarget(_ message: OutboxMessage) async throws -> Result<(url: String, headers: [(String, String)]), Undeliverable> {
        guard let id = message.webhookID, let hook = try await store.repositories.webhooks.find(id: id, scope: .all) else {
            return .failure(Undeliverable(status: .skipped, text: "The webhook was deleted"))
        }
        guard let box else { return .failure(Undeliverable(status: .failed, text: "This server has no secrets key to sign webhooks with")) }
        let secret: String
        do {
            secret = try box.open(hook.sealedSecret, context: Webhooks.context(hook.organizationID, hook.id))
        } catch let error as ArrowError {
            return .failure(Undeliverable(status: .failed, text: error.message))
        }
        let timestamp = String(Int(now().timeIntervalSince1970))
        let event = (try? WireJSON.decoder().decode(EventName.self, from: Data(message.body.utf8)))?.event ?? ""
        let signature = SecretBox.signature(secret: secret, message: Data((timestamp + "." + message.body).utf8))
        return .success((hook.url, [
            ("Content-Type", "application/json"), ("User-Agent", "ARROW-VM-Imaging/1.0"), ("X-Arrow-Event", event),
            ("X-Arrow-Delivery", message.id.rawValue), ("X-Arrow-Timestamp", timestamp), ("X-Arrow-Signature", "sha256=" + signature),
        ]))
    }

    public func list(principal: Principal, limit: Int) async throws -> [(OutboxMessage, [DeliveryAttempt])] {
        try principal.requireHuman()
        try principal.require(.buildTrigger)
        return try await store.repositories.outbox.list(scope: principal.scope, limit: limit)
    }
}
