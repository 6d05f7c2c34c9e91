import Foundation

public enum OutboxMessageTag {}
public typealias OutboxMessageID = Identifier<OutboxMessageTag>

/// A message to deliver outside the system, written in the same transaction as the change it announces, so a
/// crash can delay it but never lose it (the transactional outbox).
public struct OutboxMessage: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// GitHub `repository_dispatch` to `GITHUB_VM_IMAGING_WEBHOOK_URL`.
        case githubDispatch = "github_dispatch"
        /// A build event to one of an organization's webhooks (``OrganizationWebhook``), HMAC-signed.
        case organizationWebhook = "org_webhook"
    }

    public enum Status: String, Sendable, Codable, CaseIterable {
        case pending, delivered, failed
        /// Not sent: no webhook URL is configured (builders still get the task from the queue).
        case skipped
    }

    public var id: OutboxMessageID
    public var kind: Kind
    public var organizationID: OrganizationID?
    /// The exact JSON body to send.
    public var body: String
    /// What the message is about (a device request or a task), for admins reading the list.
    public var subject: String
    /// The webhook an ``Kind/organizationWebhook`` message goes to.
    public var webhookID: WebhookID?
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastHTTPStatus: Int?
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?

    public init(
        id: OutboxMessageID = .generate(), kind: Kind, organizationID: OrganizationID?, body: String, subject: String,
        webhookID: WebhookID? = nil, status: Status = .pending, attempts: Int = 0, nextAttemptAt: Date, lastHTTPStatus: Int? = nil, lastError: String? = nil,
        createdAt: Date, deliveredAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.organizationID = organizationID
        self.body = body
        self.subject = subject
        self.webhookID = webhookID
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastHTTPStatus = lastHTTPStatus
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}

/// One delivery attempt, kept for admins (`GET /api/vm-imaging/dispatches`).
public struct DeliveryAttempt: Sendable, Equatable {
    public var messageID: OutboxMessageID
    public var number: Int
    public var at: Date
    public var httpStatus: Int?
    public var error: String?
    public var durationMS: Int

    public init(messageID: OutboxMessageID, number: Int, at: Date, httpStatus: Int?, error: String?, durationMS: Int) {
        self.messageID = messageID
        self.number = number
        self.at = at
        self.httpStatus = httpStatus
        self.error = error
        self.durationMS = durationMS
    }
}

public protocol OutboxRepository: Sendable {
    func add(_ message: OutboxMessage) async throws
    /// Takes up to `limit` pending messages due at `now` for `leaseSeconds`, so two dispatchers (two API nodes)
    /// never send the same message at once. A dispatcher that dies leaves them to be taken again once the lease ends.
    func takeDue(now: Date, limit: Int, leaseSeconds: Int) async throws -> [OutboxMessage]
    /// Records an attempt and the message's new state (and releases it).
    func record(_ attempt: DeliveryAttempt, updated: OutboxMessage) async throws
    /// Newest first, with their attempts.
    func list(scope: AccessScope, limit: Int) async throws -> [(OutboxMessage, [DeliveryAttempt])]
}

/// When to try a message again: on a rate limit, when GitHub says (Retry-After, else x-ratelimit-reset); on any
/// other failure, exponential backoff with full jitter; after `maxAttempts` the message has failed for good.
public struct DeliveryRetryPolicy: Sendable, Equatable {
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var maxAttempts: Int

    public init(baseDelay: TimeInterval = 2, maxDelay: TimeInterval = 600, maxAttempts: Int = 12) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// What the server answered (nil status: no answer at all).
    public struct Outcome: Sendable, Equatable {
        public var status: Int?
        public var retryAfter: String?
        public var rateLimitRemaining: String?
        public var rateLimitReset: String?

        public init(status: Int?, retryAfter: String? = nil, rateLimitRemaining: String? = nil, rateLimitReset: String? = nil) {
            self.status = status
            self.retryAfter = retryAfter
            self.rateLimitRemaining = rateLimitRemaining
            self.rateLimitReset = rateLimitReset
        }

        public var delivered: Bool { status.map { (200..<300).contains($0) } ?? false }
    }

    public enum Decision: Sendable, Equatable {
        case delivered
        case retry(at: Date)
        case giveUp
    }

    /// `attempt` is the number of the attempt that just ended (1-based); `jitter` is in 0…1.
    public func decide(_ outcome: Outcome, attempt: Int, now: Date, jitter: Double) -> Decision {
        if outcome.delivered { return .delivered }
        if let status = outcome.status, (400..<500).contains(status), status != 403, status != 429, status != 408 {
            // The request itself is wrong (bad URL, bad token, payload refused): retrying cannot help, but a
            // misconfiguration fixed by an admin should still go out, so keep trying on the slow schedule.
            if attempt >= maxAttempts { return .giveUp }
            return .retry(at: now.addingTimeInterval(maxDelay))
        }
        if attempt >= maxAttempts { return .giveUp }
        if let wait = rateLimitWait(outcome, now: now) { return .retry(at: now.addingTimeInterval(min(max(wait, 1), 3600))) }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return .retry(at: now.addingTimeInterval(max(0.5, ceiling * jitter)))
    }

    /// The wait GitHub asked for on 403/429: `Retry-After` seconds, else until `x-ratelimit-reset` when remaining is 0.
    func rateLimitWait(_ outcome: Outcome, now: Date) -> TimeInterval? {
        guard outcome.status == 403 || outcome.status == 429 else { return nil }
        if let seconds = outcome.retryAfter.flatMap({ TimeInterval($0.trimmingCharacters(in: .whitespaces)) }) { return seconds }
        if outcome.rateLimitRemaining?.trimmingCharacters(in: .whitespaces) == "0",
           let reset = outcome.rateLimitReset.flatMap({ TimeInterval($0.trimmingCharacters(in: .whitespaces)) }) {
            return reset - now.timeIntervalSince1970
        }
        return nil
    }
}
