import ArrowCore
import Foundation
import Hummingbird

/// Strict parsing of query parameters and numeric JSON fields: a value that is present but malformed or out of range
/// is refused with the parameter named, never silently replaced by a default.
enum QueryParameters {
    /// `true`/`false` (also `1`/`0`); nil when absent.
    static func bool(_ text: String?, name: String) throws -> Bool? {
        guard let text else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ArrowError(.invalidInput, reason: "invalid_filter", "\(name) must be true or false")
        }
    }

    /// A decimal integer within `range`; nil when absent.
    static func integer(_ text: String?, name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ArrowError(.invalidInput, reason: "invalid_filter", "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Seconds, bare or with a unit (`90`, `30m`, `24h`, `7d`), from 1 to `max`; nil when absent.
    static func duration(_ text: String?, name: String, max: Int) throws -> TimeInterval? {
        guard let text else { return nil }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let unit = text.last.flatMap { units[$0] }
        let number = unit == nil ? Substring(text) : text.dropLast()
        guard let value = Int(number), value > 0, value <= max / (unit ?? 1) else {
            throw ArrowError(.invalidInput, reason: "invalid_filter", "\(name) must be a duration such as 3600, 30m, 24h or 7d, at most \(max / 86400) days")
        }
        return TimeInterval(value * (unit ?? 1))
    }

    /// A JSON number that is a whole, non-negative byte count representable exactly (no 1.5e6, no 1e20).
    static func byteCount(_ value: Any, name: String) throws -> Int64 {
        let refused = ArrowError(.unprocessable, reason: "invalid_\(name)", "\(name) must be a whole number of bytes")
        guard !(value is Bool), let number = value as? NSNumber else { throw refused }
        // Integers come from the JSON parser as integer NSNumbers (`q`); anything written with a fraction or an
        // exponent, or too large for Int64, arrives as a double or a decimal (`d`) and is refused. Booleans are `c`.
        let type = String(cString: number.objCType)
        guard ["q", "l", "i", "s"].contains(type), number.int64Value >= 0 else { throw refused }
        return number.int64Value
    }
}

extension QueryParameters {
    /// `If-Match: "<revision>"` (optional, weak or strong): the revision a write is based on; nil when absent.
    static func revision(ifMatch request: Request) throws -> Int? {
        guard let text = request.headers[.ifMatch] else { return nil }
        guard let revision = Int(text.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))), revision >= 0 else {
            throw ArrowError(.invalidInput, reason: "invalid_if_match", "If-Match must be the revision the change is based on, e.g. \"3\"")
        }
        return revision
    }
}
