import ArrowCore
import Foundation
import Testing

@Suite struct DeliveryRetryPolicyTests {
    let policy = DeliveryRetryPolicy(baseDelay: 2, maxDelay: 600, maxAttempts: 5)
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func twoHundredsAreDelivered() {
        #expect(policy.decide(.init(status: 204), attempt: 1, now: now, jitter: 0.5) == .delivered)
        #expect(policy.decide(.init(status: 200), attempt: 1, now: now, jitter: 0.5) == .delivered)
    }

    @Test func rateLimitsWaitForRetryAfterThenTheReset() {
        #expect(policy.decide(.init(status: 429, retryAfter: "7"), attempt: 1, now: now, jitter: 0.9) == .retry(at: now + 7))
        #expect(policy.decide(.init(status: 403, retryAfter: "30"), attempt: 1, now: now, jitter: 0.9) == .retry(at: now + 30))
        let reset = String(Int(now.timeIntervalSince1970) + 120)
        #expect(policy.decide(.init(status: 403, rateLimitRemaining: "0", rateLimitReset: reset), attempt: 2, now: now, jitter: 0.1)
            == .retry(at: now + 120))
        // A 403 without rate-limit headers is an ordinary failure: backoff.
        #expect(policy.decide(.init(status: 403), attempt: 1, now: now, jitter: 1) == .retry(at: now + 2))
    }

    @Test func otherFailuresBackOffExponentiallyWithJitterUpToTheCap() {
        #expect(policy.decide(.init(status: 500), attempt: 1, now: now, jitter: 1) == .retry(at: now + 2))
        #expect(policy.decide(.init(status: 502), attempt: 3, now: now, jitter: 1) == .retry(at: now + 8))
        #expect(policy.decide(.init(status: nil), attempt: 4, now: now, jitter: 0.5) == .retry(at: now + 8))
        #expect(policy.decide(.init(status: 500), attempt: 2, now: now, jitter: 0) == .retry(at: now + 0.5))
        let big = DeliveryRetryPolicy(baseDelay: 2, maxDelay: 60, maxAttempts: 50)
        #expect(big.decide(.init(status: 500), attempt: 30, now: now, jitter: 1) == .retry(at: now + 60))
    }

    @Test func theLastAttemptGivesUp() {
        #expect(policy.decide(.init(status: 500), attempt: 5, now: now, jitter: 1) == .giveUp)
        #expect(policy.decide(.init(status: 429, retryAfter: "1"), attempt: 5, now: now, jitter: 1) == .giveUp)
        #expect(policy.decide(.init(status: 404), attempt: 5, now: now, jitter: 1) == .giveUp)
        // A refused request waits the longest delay: an admin may fix the URL or token meanwhile.
        #expect(policy.decide(.init(status: 404), attempt: 1, now: now, jitter: 1) == .retry(at: now + 600))
    }
}
