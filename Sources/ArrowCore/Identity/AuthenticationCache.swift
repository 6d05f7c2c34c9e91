import Foundation
import Synchronization

/// Recently resolved tokens, so an authenticated request does not cost a database round trip.
///
/// Entries live for ``ttl`` (and never past the token's own expiry). Revoking a token or changing a role through
/// this process drops the affected entries at once; another API node sees a revocation within ``ttl`` at most.
/// A TTL of zero turns the cache off.
///
/// A busy token's entry is read again shortly before it expires, by one request, while the others go on using it
/// (``Lookup/refresh(_:ticket:)``). Without that, every request in flight with the token missed at the same moment
/// and sent the same query: under 64 connections, 64 queries every ``ttl``, queued behind PostgreSQL's connection
/// pool, a visible step in the API's p99.
public final class AuthenticationCache: Sendable {
    struct Entry {
        var principal: Principal
        var organization: Organization?
        var validUntil: Date
        /// From here on, the first request to see the entry reads the token again.
        var refreshAfter: Date
        var refreshing = false
    }

    /// What ``lookup(_:now:)`` found.
    enum Lookup {
        /// Use the entry.
        case fresh(Entry)
        /// Use the entry if the read fails for any reason other than the token's own state, but read the token
        /// again first: this caller is the one chosen to refresh it.
        case refresh(Entry, ticket: Ticket)
        /// Read the token.
        case miss(ticket: Ticket)
    }

    /// Taken before a database read, given back to ``store(_:principal:organization:tokenExpiry:now:ticket:)``: a
    /// read that began before an invalidation may have seen what was just changed, and is not stored.
    struct Ticket: Sendable {
        fileprivate let generation: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Bumped by every invalidation.
        var generation: UInt64 = 0
    }

    public let ttl: TimeInterval
    let capacity: Int
    private let state = Mutex(State())

    public init(ttl: TimeInterval, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The last quarter of an entry's life (at most 1 s) is when it is refreshed.
    var refreshMargin: TimeInterval { min(ttl / 4, 1) }

    func lookup(_ digest: String, now: Date) -> Lookup {
        state.withLock { state in
            let ticket = Ticket(generation: state.generation)
            guard ttl > 0, var entry = state.entries[digest] else { return .miss(ticket: ticket) }
            if entry.validUntil <= now {
                state.entries[digest] = nil
                return .miss(ticket: ticket)
            }
            guard now >= entry.refreshAfter, !entry.refreshing else { return .fresh(entry) }
            entry.refreshing = true
            state.entries[digest] = entry
            return .refresh(entry, ticket: ticket)
        }
    }

    func store(_ digest: String, principal: Principal, organization: Organization?, tokenExpiry: Date?, now: Date, ticket: Ticket) {
        guard ttl > 0 else { return }
        var validUntil = now.addingTimeInterval(ttl)
        if let tokenExpiry { validUntil = min(validUntil, tokenExpiry) }
        let entry = Entry(principal: principal, organization: organization, validUntil: validUntil,
                          refreshAfter: validUntil.addingTimeInterval(-refreshMargin))
        state.withLock { state in
            guard state.generation == ticket.generation else { return }
            // Crude but bounded: a full cache starts over rather than growing.
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[digest] = entry
        }
    }

    /// A refresh that could not read the database: the entry stays in use until it expires, and the next request
    /// past its refresh time tries again.
    func refreshFailed(_ digest: String) {
        state.withLock { state in state.entries[digest]?.refreshing = false }
    }

    /// The token is no longer valid (the refresh read says so).
    func remove(_ digest: String) {
        state.withLock { state in state.entries[digest] = nil }
    }

    func invalidate(token: TokenID) {
        state.withLock { state in
            state.generation &+= 1
            state.entries = state.entries.filter { $0.value.principal.tokenID != token }
        }
    }

    func invalidate(user: UserID) {
        state.withLock { state in
            state.generation &+= 1
            state.entries = state.entries.filter { $0.value.principal.user.id != user }
        }
    }
}
