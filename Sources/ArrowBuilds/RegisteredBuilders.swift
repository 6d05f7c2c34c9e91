import ArrowCore
import Foundation
import Synchronization

/// Builders this process registered in the last minute, so a builder that claims in a loop is not upserted on
/// every claim.
final class RegisteredBuilders: Sendable {
    struct Key: Hashable {
        var account: UserID
        var registration: BuildQueue.ValidRegistration
    }

    private let entries = Mutex<[Key: (Builder, Date)]>([:])
    private let ttl: TimeInterval = 60

    func recent(_ key: Key, now: Date) -> Builder? {
        entries.withLock { entries in
            guard let (builder, at) = entries[key], now.timeIntervalSince(at) < ttl else { return nil }
            return builder
        }
    }

    func remember(_ key: Key, _ builder: Builder, now: Date) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries = entries.filter { now.timeIntervalSince($0.value.1) < ttl } }
            entries[key] = (builder, now)
        }
    }
}
