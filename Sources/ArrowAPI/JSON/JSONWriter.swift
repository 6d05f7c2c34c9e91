import Foundation

/// Hand-written JSON for the few responses on the hottest routes (`/api/me`), where Codable's containers cost more
/// than everything else the handler does: a `KeyedEncodingContainer` box, generic-metadata lookups and a key
/// conversion for every member. What a type writes here must parse to what its Codable form encodes to; each such
/// type has a test that compares the two, and debug builds compare them on every response as well.
///
/// Members are written in order; `nil` values are left out, as synthesised `encodeIfPresent` does.
struct JSONWriter {
    private var json = JSONBytes()
    /// Whether the next member or element needs a comma before it.
    private var afterValue = false

    var bytes: [UInt8] { json.bytes }

    mutating func object(_ members: (inout JSONWriter) -> Void) {
        separate()
        json.append("{")
        afterValue = false
        members(&self)
        json.append("}")
        afterValue = true
    }

    /// `key` is written as it is: give it in the API's snake_case.
    mutating func member(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        json.writeString(value)
    }

    mutating func member(_ key: StaticString, _ value: Date?) {
        guard let value else { return }
        self.key(key)
        json.writeString(UTCTimestamp.string(value))
    }

    mutating func member(_ key: StaticString, _ values: [String]) {
        self.key(key)
        json.append("[")
        for (index, value) in values.enumerated() {
            if index > 0 { json.append(",") }
            json.writeString(value)
        }
        json.append("]")
    }

    /// A member whose value the closure writes (an object); nothing when `value` is nil.
    mutating func member<Value>(_ key: StaticString, _ value: Value?, _ write: (Value, inout JSONWriter) -> Void) {
        guard let value else { return }
        self.key(key)
        afterValue = false
        write(value, &self)
    }

    private mutating func key(_ key: StaticString) {
        separate()
        json.append("\"")
        json.append(key)
        json.append("\":")
        afterValue = true
    }

    private mutating func separate() {
        if afterValue { json.append(",") }
    }
}
