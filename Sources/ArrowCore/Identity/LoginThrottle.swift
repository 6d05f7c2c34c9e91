import Foundation
import Synchronization

/// Failed-login bookkeeping for one key (an account's email, or a client address): a pure value, every transition
/// tested in `LoginThrottleTests`.
///
/// The first `free` failures cost nothing; each one after that doubles the wait before the next attempt is even
/// looked at (1 s, 2 s, 4 s … up to `maximumDelay`). A key with no failure for `forgetAfter` starts clean again.
public struct FailureRecord: Sendable, Equatable {
    public var failures = 0
    public var lastFailure: Date?
    /// No attempt is checked before this instant.
    public var blockedUntil: Date?

    public init() {}

    public struct Policy: Sendable, Equatable {
        public var free: Int
        public var maximumDelay: TimeInterval
        public var forgetAfter: TimeInterval

        public init(free: Int, maximumDelay: TimeInterval = 900, forgetAfter: TimeInterval = 3600) {
            self.free = free
            self.maximumDelay = maximumDelay
            self.forgetAfter = forgetAfter
        }
    }

    /// Seconds to wait before an attempt at `now` will be checked; nil when it may go ahead.
    public func wait(at now: Date, policy: Policy) -> Int? {
        guard let blockedUntil, blockedUntil > now, !forgotten(at: now, policy: policy) else { return nil }
        return max(1, Int(blockedUntil.timeIntervalSince(now).rounded(.up)))
    }

    /// After a wrong password at `now`.
    public mutating func failed(at now: Date, policy: Policy) {
        if forgotten(at: now, policy: policy) { self = FailureRecord() }
        failures += 1
        lastFailure = now
        let over = failures - policy.free
        if over > 0 {
            let delay = min(policy.maximumDelay, pow(2, Double(min(over - 1, 30))))
            blockedUntil = now.addingTimeInterval(delay)
        }
    }

    func forgotten(at now: Date, policy: Policy) -> Bool {
        guard let lastFailure else { return true }
        return now.timeIntervalSince(lastFailure) >= policy.forgetAfter
    }
}

/// Throttles password logins per account and per client address. Answers are the same for known and unknown
/// accounts: the account key is the normalized email as given, whether or not such a user exists, and a throttled
/// attempt is refused before the password is looked at (so it tells nothing either).
///
/// In memory, per API node: each node of a scale-out deployment throttles on its own, which bounds a guesser to the
/// same growing delay per node. At most `capacity` keys are kept; the oldest are dropped first.
public final class LoginThrottle: Sendable {
    public let accountPolicy: FailureRecord.Policy
    public let addressPolicy: FailureRecord.Policy
    private let capacity: Int
    private let records = Mutex<[String: FailureRecord]>([:])

    /// - Parameters:
    ///   - accountFailures: free failures per account before delays start.
    ///   - addressFailures: free failures per client address (higher: many people can share one address).
    public init(accountFailures: Int = 5, addressFailures: Int = 20, capacity: Int = 100_000) {
        accountPolicy = FailureRecord.Policy(free: accountFailures)
        addressPolicy = FailureRecord.Policy(free: addressFailures)
        self.capacity = capacity
    }

    static func accountKey(_ email: String) -> String { "account:" + email }
    static func addressKey(_ address: String?) -> String { "address:" + (address ?? "unknown") }

    /// Throws `rate_limited` (429 with `Retry-After`) when either the account or the address must wait.
    public func check(email: String, address: String?, now: Date) throws {
        let wait = records.withLock { records in
            [records[Self.accountKey(email)]?.wait(at: now, policy: accountPolicy),
             records[Self.addressKey(address)]?.wait(at: now, policy: addressPolicy)].compactMap { $0 }.max()
        }
        if let wait {
            throw ArrowError(.rateLimited, reason: "login_throttled",
                             "Too many failed logins; try again in \(wait) s", retryAfter: wait)
        }
    }

    public func failed(email: String, address: String?, now: Date) {
        records.withLock { records in
            if records.count >= capacity { Self.evictOldest(&records, now: now) }
            records[Self.accountKey(email), default: FailureRecord()].failed(at: now, policy: accountPolicy)
            records[Self.addressKey(address), default: FailureRecord()].failed(at: now, policy: addressPolicy)
        }
    }

    /// A right password clears the account's record (the address keeps its own: a guesser who owns one account must
    /// not clear the address's count by logging into it).
    public func succeeded(email: String) {
        _ = records.withLock { $0.removeValue(forKey: Self.accountKey(email)) }
    }

    private static func evictOldest(_ records: inout [String: FailureRecord], now: Date) {
        let ordered = records.sorted { ($0.value.lastFailure ?? .distantPast) < ($1.value.lastFailure ?? .distantPast) }
        for (key, _) in ordered.prefix(max(1, records.count / 10)) { records[key] = nil }
    }
}
