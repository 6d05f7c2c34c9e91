@testable import ArrowCore
import Foundation
import Testing

/// The authentication cache on its own: expiry, one refresh per entry ahead of expiry, and invalidations that a
/// read begun earlier cannot undo.
@Suite struct AuthenticationCacheTests {
    let start = Date(timeIntervalSince1970: 1_000_000)
    let principal = Principal(
        user: User(organizationID: nil, email: "a@alpha.io", name: "a", role: .admin, passwordHash: nil, createdAt: Date(timeIntervalSince1970: 0)),
        tokenID: .generate(), permissions: [.imageRead])

    func cache(ttl: TimeInterval = 2) -> AuthenticationCache { AuthenticationCache(ttl: ttl) }

    func ticket(_ lookup: AuthenticationCache.Lookup) -> AuthenticationCache.Ticket? {
        switch lookup {
        case .miss(let ticket), .refresh(_, let ticket): ticket
        case .fresh: nil
        }
    }

    func kind(_ lookup: AuthenticationCache.Lookup) -> String {
        switch lookup {
        case .fresh: "fresh"
        case .refresh: "refresh"
        case .miss: "miss"
        }
    }

    func seeded(_ cache: AuthenticationCache, at now: Date) throws {
        let miss = cache.lookup("d", now: now)
        #expect(kind(miss) == "miss")
        cache.store("d", principal: principal, organization: nil, tokenExpiry: nil, now: now, ticket: try #require(ticket(miss)))
    }

    @Test func oneRequestRefreshesAnEntryBeforeItExpiresAndTheOthersKeepUsingIt() throws {
        let cache = cache()
        try seeded(cache, at: start)
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.4))) == "fresh")
        // The last quarter of the TTL: the first caller is chosen, the rest go on with the entry.
        let chosen = cache.lookup("d", now: start.addingTimeInterval(1.6))
        #expect(kind(chosen) == "refresh")
        for _ in 0..<63 { #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.7))) == "fresh") }
        // The refresh stores a new entry with a new lifetime.
        cache.store("d", principal: principal, organization: nil, tokenExpiry: nil, now: start.addingTimeInterval(1.7),
                    ticket: try #require(ticket(chosen)))
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(3.1))) == "fresh")
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(3.25))) == "refresh")
    }

    @Test func anEntryIsNeverUsedPastItsTTLOrItsTokensExpiry() throws {
        let cache = cache()
        try seeded(cache, at: start)
        _ = cache.lookup("d", now: start.addingTimeInterval(1.6))  // a refresh that never comes back
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.99))) == "fresh")
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(2))) == "miss")

        let miss = cache.lookup("e", now: start)
        cache.store("e", principal: principal, organization: nil, tokenExpiry: start.addingTimeInterval(0.5), now: start,
                    ticket: try #require(ticket(miss)))
        #expect(kind(cache.lookup("e", now: start.addingTimeInterval(0.5))) == "miss")
    }

    @Test func aFailedRefreshLetsTheNextRequestTryAgain() throws {
        let cache = cache()
        try seeded(cache, at: start)
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.6))) == "refresh")
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.6))) == "fresh")
        cache.refreshFailed("d")
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.7))) == "refresh")
        cache.remove("d")
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.7))) == "miss")
    }

    @Test func aReadBegunBeforeAnInvalidationIsNotStored() throws {
        let cache = cache()
        let early = try #require(ticket(cache.lookup("d", now: start)))
        cache.invalidate(token: principal.tokenID)
        cache.store("d", principal: principal, organization: nil, tokenExpiry: nil, now: start, ticket: early)
        #expect(kind(cache.lookup("d", now: start)) == "miss")

        try seeded(cache, at: start)
        let chosen = try #require(ticket(cache.lookup("d", now: start.addingTimeInterval(1.6))))
        cache.invalidate(user: principal.user.id)
        cache.store("d", principal: principal, organization: nil, tokenExpiry: nil, now: start.addingTimeInterval(1.6), ticket: chosen)
        #expect(kind(cache.lookup("d", now: start.addingTimeInterval(1.6))) == "miss")
    }

    @Test func aZeroTTLCachesNothing() throws {
        let cache = cache(ttl: 0)
        let miss = cache.lookup("d", now: start)
        cache.store("d", principal: principal, organization: nil, tokenExpiry: nil, now: start, ticket: try #require(ticket(miss)))
        #expect(kind(cache.lookup("d", now: start)) == "miss")
    }
}
