import ArrowCore
import Foundation
import Testing

/// Every transition of the failed-login record, and the throttle's account and address keys.
@Suite struct LoginThrottleTests {
    let policy = FailureRecord.Policy(free: 3, maximumDelay: 8, forgetAfter: 100)
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test func freeFailuresCostNothingThenTheWaitDoublesUpToTheCap() {
        var record = FailureRecord()
        for n in 1...3 {
            record.failed(at: t0, policy: policy)
            #expect(record.wait(at: t0, policy: policy) == nil, "failure \(n) is free")
        }
        var waits: [Int?] = []
        for _ in 0..<6 {
            record.failed(at: t0, policy: policy)
            waits.append(record.wait(at: t0, policy: policy))
        }
        #expect(waits == [1, 2, 4, 8, 8, 8])
        #expect(record.wait(at: t0.addingTimeInterval(7.5), policy: policy) == 1, "partial seconds round up")
        #expect(record.wait(at: t0.addingTimeInterval(8), policy: policy) == nil, "the wait ends")
    }

    @Test func aQuietKeyIsForgotten() {
        var record = FailureRecord()
        for _ in 0..<5 { record.failed(at: t0, policy: policy) }
        #expect(record.wait(at: t0, policy: policy) == 2)
        let later = t0.addingTimeInterval(100)
        record.failed(at: later, policy: policy)
        #expect(record.failures == 1, "after forgetAfter without a failure the count starts again")
        #expect(record.wait(at: later, policy: policy) == nil)
    }

    @Test func accountAndAddressAreThrottledApartAndSuccessClearsOnlyTheAccount() throws {
        let throttle = LoginThrottle(accountFailures: 2, addressFailures: 4)
        for _ in 0..<3 { throttle.failed(email: "a@x.y", address: "10.0.0.1", now: t0) }
        let error = #expect(throws: ArrowError.self) { try throttle.check(email: "a@x.y", address: "10.0.0.9", now: t0) }
        #expect(error?.code == .rateLimited)
        #expect(error?.retryAfter == 1)
        #expect(error?.publicCode == "login_throttled")
        // Another account from the same address is not yet held (4 free per address, 3 used).
        try throttle.check(email: "b@x.y", address: "10.0.0.1", now: t0)
        throttle.failed(email: "b@x.y", address: "10.0.0.1", now: t0)
        throttle.failed(email: "c@x.y", address: "10.0.0.1", now: t0)
        #expect(throws: ArrowError.self) { try throttle.check(email: "d@x.y", address: "10.0.0.1", now: t0) }
        // A right password clears its account, not the address.
        throttle.succeeded(email: "a@x.y")
        try throttle.check(email: "a@x.y", address: "10.0.0.2", now: t0)
        #expect(throws: ArrowError.self) { try throttle.check(email: "a@x.y", address: "10.0.0.1", now: t0) }
    }

    @Test func capacityIsBounded() throws {
        let throttle = LoginThrottle(accountFailures: 0, addressFailures: 1000, capacity: 50)
        for n in 0..<500 { throttle.failed(email: "u\(n)@x.y", address: "a", now: t0.addingTimeInterval(Double(n) / 1000)) }
        // Every account waits 1 s from its failure. The newest is still held; the oldest was dropped to stay within
        // capacity, so it is not.
        let now = t0.addingTimeInterval(0.6)
        #expect(throws: ArrowError.self) { try throttle.check(email: "u499@x.y", address: "b", now: now) }
        try throttle.check(email: "u0@x.y", address: "b", now: now)
    }
}
