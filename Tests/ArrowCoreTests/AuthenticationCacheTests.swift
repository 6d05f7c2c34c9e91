@testable import ArrowCore
import Foundation
import Synchronization
import Testing

/// Requests that miss the cache together share one database lookup, and an invalidation is never undone by a
/// lookup that began before it.
@Suite struct AuthenticationCacheTests {
    static let user = User(organizationID: nil, email: "a@alpha.io", name: "a", role: .admin, passwordHash: nil, createdAt: Date())

    /// A stand-in for the database lookup: counts its calls, and waits for `gate` before answering.
    final class Lookups: Sendable {
        let calls = Atomic(0)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let tokenID: TokenID

        init(tokenID: TokenID = .generate()) { self.tokenID = tokenID }

        func load() async -> AuthenticationCache.Loaded {
            calls.add(1, ordering: .relaxed)
            await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
            return AuthenticationCache.Loaded(
                principal: Principal(user: AuthenticationCacheTests.user, tokenID: tokenID, permissions: [.imageRead]),
                organization: nil, tokenExpiry: nil)
        }

        /// Answers the lookup that is waiting, once one is.
        func open() async {
            while true {
                if let continuation = gate.withLock({ state -> CheckedContinuation<Void, Never>? in defer { state = nil }; return state }) {
                    continuation.resume()
                    return
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    @Test func concurrentMissesShareOneLookup() async throws {
        let cache = AuthenticationCache(ttl: 5)
        let lookups = Lookups()
        try await withThrowingTaskGroup(of: AuthenticationCache.Loaded.self) { group in
            for _ in 0..<50 {
                group.addTask { try await cache.resolve("digest", now: Date()) { await lookups.load() } }
            }
            await lookups.open()
            var answered = 0
            for try await loaded in group {
                #expect(loaded.principal.tokenID == lookups.tokenID)
                answered += 1
            }
            #expect(answered == 50)
        }
        #expect(lookups.calls.load(ordering: .relaxed) == 1)
        // Stored: the next request needs no lookup at all.
        _ = try await cache.resolve("digest", now: Date()) { await lookups.load() }
        #expect(lookups.calls.load(ordering: .relaxed) == 1)
    }

    @Test func aLookupThatBeganBeforeARevocationDoesNotStoreItsAnswer() async throws {
        let cache = AuthenticationCache(ttl: 5)
        let stale = Lookups()
        let early = Task { try await cache.resolve("digest", now: Date()) { await stale.load() } }
        while stale.calls.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        cache.invalidate(token: stale.tokenID)  // the token is revoked while the lookup is running

        // A request after the revocation does not join the old lookup: it makes its own.
        let fresh = Lookups()
        let late = Task { try await cache.resolve("digest", now: Date()) { await fresh.load() } }
        await fresh.open()
        #expect(try await late.value.principal.tokenID == fresh.tokenID)
        await stale.open()
        _ = try await early.value
        // What the old lookup read was not stored over the new one.
        #expect(cache.lookup("digest", now: Date())?.principal.tokenID == fresh.tokenID)
    }

    @Test func withTheCacheOffEveryRequestLooksUp() async throws {
        let cache = AuthenticationCache(ttl: 0)
        let lookups = Lookups()
        for _ in 0..<3 {
            let request = Task { try await cache.resolve("digest", now: Date()) { await lookups.load() } }
            await lookups.open()
            _ = try await request.value
        }
        #expect(lookups.calls.load(ordering: .relaxed) == 3)
    }
}
