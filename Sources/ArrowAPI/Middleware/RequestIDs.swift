import ArrowCore
import HTTPTypes
import Foundation
import Hummingbird
import Synchronization

/// New request ids: a random 64-bit prefix drawn once per process, then a counter, written like a UUID (36
/// characters). Unique within the process and, by the prefix, across processes; not secret, which a request id
/// need not be. `UUID()` opened, read and closed /dev/urandom on every request (three system calls).
final class RequestIDs: Sendable {
    static let shared = RequestIDs()

    /// The caller's `X-Request-ID` when it is a sane token, otherwise a new id.
    static func id(for request: Request) -> String {
        request.headers[.xRequestID].flatMap(accept) ?? shared.next()
    }

    /// Accepts 1–128 characters of `[A-Za-z0-9._-]`, so a caller cannot inject text into logs.
    static func accept(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else { return nil }
        return value
    }

    private let prefix = UInt64.random(in: .min ... .max)
    private let counter = Atomic<UInt64>(0)

    func next() -> String {
        let count = counter.add(1, ordering: .relaxed).newValue
        return Self.format(prefix, count)
    }

    /// The 32 hex digits of `high` then `low`, grouped 8-4-4-4-12, written straight into the string's storage.
    static func format(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            var written = 0
            for position in 0..<32 {
                if position == 8 || position == 12 || position == 16 || position == 20 {
                    out[written] = 0x2D
                    written += 1
                }
                let word = position < 16 ? high : low
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (position % 16))) & 0xF
                out[written] = Hex.digit(nibble)
                written += 1
            }
            return written
        }
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
}
