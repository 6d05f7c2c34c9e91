import ArrowCore
import Foundation
import Synchronization

/// A clock tests move by hand, so expiry and TTL tests never depend on how fast the machine is.
public final class ManualClock: ArrowCore.Clock, Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
