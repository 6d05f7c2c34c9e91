import Foundation
import Synchronization

/// Recently resolved tokens, so an authenticated request does not cost a database round trip.
///
/// Entries live for ``ttl`` (and never past the token's own expiry). Revoking a token or changing a role through
/// this process drops the affected entries at once; another API node sees a revocation within ``ttl`` at most.
/// A TTL of zero turns the cache off.
public final class AuthenticationCache: Sendable {
    struct Entry {
        var principal: Principal
        var organization: Organization?
        var validUntil: Date
    }

    public let ttl: TimeInterval
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(ttl: TimeInterval, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func lookup(_ digest: String, now: Date) -> Entry? {
        guard ttl > 0 else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[digest] else { return nil }
            if entry.validUntil <= now {
                entries[digest] = nil
                return nil
            }
            return entry
        }
    }

    func store(_ digest: String, principal: Principal, organization: Organization?, tokenExpiry: Date?, now: Date) {
        guard ttl > 0 else { return }
        var validUntil = now.addingTimeInterval(ttl)
        if let tokenExpiry { validUntil = min(validUntil, tokenExpiry) }
        entries.withLock { entries in
            // Crude but bounded: a full cache starts over rather than growing.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[digest] = Entry(principal: principal, organization: organization, validUntil: validUntil)
        }
    }

    func invalidate(token: TokenID) {
        entries.withLock { entries in entries = entries.filter { $0.value.principal.tokenID != token } }
    }

    func invalidate(user: UserID) {
        entries.withLock { entries in entries = entries.filter { $0.value.principal.user.id != user } }
    }
}
