import ArrowCore
import Foundation

/// Sends one HTTP request; the App gives the real client, tests may give a fake.
public protocol DispatchTransport: Sendable {
    /// The response's status and rate-limit headers, or a nil status and an error text when nothing came back.
    func post(url: String, headers: [(String, String)], body: String) async -> (DeliveryRetryPolicy.Outcome, error: String?)
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

    public init(
        store: any DataStore, transport: any DispatchTransport, settings: DispatchSettings, now: @escaping @Sendable () -> Date = Date.init,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, observe: @escaping QueueObserver = { _ in }
    ) {
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
        guard let url = settings.url, !url.isEmpty else {
            updated.status = .skipped
            updated.lastError = "GITHUB_VM_IMAGING_WEBHOOK_URL is not set; builders take the task from the queue"
            try await store.repositories.outbox.record(
                DeliveryAttempt(messageID: message.id, number: updated.attempts, at: started, httpStatus: nil, error: updated.lastError, durationMS: 0),
                updated: updated)
            return
        }
        let clock = ContinuousClock()
        let begin = clock.now
        let (outcome, error) = await transport.post(url: url, headers: settings.headers, body: message.body)
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

    public func list(principal: Principal, limit: Int) async throws -> [(OutboxMessage, [DeliveryAttempt])] {
        try principal.requireHuman()
        try principal.require(.buildTrigger)
        return try await store.repositories.outbox.list(scope: principal.scope, limit: limit)
    }
}
