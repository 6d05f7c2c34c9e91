import ArrowCore
import Foundation

/// Writes an `Encodable` value as JSON bytes while its `encode(to:)` runs, with the API's conventions: snake_case
/// keys (``SnakeCaseKeys``), dates as ISO 8601 in UTC (``UTCTimestamp``), `Data` as base64, keys in the order the
/// value encodes them.
///
/// Why: Foundation's `JSONEncoder` first builds a tree of boxed values and dictionaries and then writes it; for
/// `/api/me` that was a quarter of the server's CPU. Written straight into one byte array, the same document costs
/// a fraction of that. The output parses to exactly what `APIJSON.encoder()` writes (tests compare every response
/// type and random documents); only key order and the escaping of "/" differ, neither of which JSON gives a meaning.
///
/// Codable never says when a container is finished, so containers are closed by position: writing to a container
/// first closes every container opened after it, and a value's containers are closed once its `encode(to:)`
/// returns. The one pattern this cannot follow, writing to a container again after a later sibling was opened,
/// makes `encode` throw ``Unsupported`` (as do `superEncoder`, `Decimal` and a value that encodes nothing), and the
/// caller falls back to Foundation's encoder.
struct StreamingJSONEncoder {
    struct Unsupported: Error {}

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let output = JSONOutput()
        try output.write(value)
        if output.failed { throw Unsupported() }
        return output.bytes
    }
}

/// The output shared by the containers of one encoding. Its state is one struct, changed through one access per
/// call: each access to a class's stored property is checked for exclusivity at run time, and with a property per
/// field those checks were a tenth of the CPU `/api/me` spent.
final class JSONOutput {
    private var state = JSONBytes()

    var bytes: [UInt8] { state.bytes }
    /// Set when the value used Codable in a way this encoder does not follow (see ``StreamingJSONEncoder``).
    var failed: Bool { state.failed }

    func write<T: Encodable>(_ value: T) throws {
        // Leaves are told apart by comparing metatypes, and read with `unsafeBitCast` once the types are known to be
        // equal: a dynamic cast (`as?`, `as!`) runs the runtime's cast machinery, and a cast to `any BinaryInteger`
        // a conformance lookup, for every value, and they made up most of what encoding `/api/me` cost.
        if T.self == String.self { return state.writeString(unsafeBitCast(value, to: String.self)) }
        if T.self == Date.self { return state.writeString(UTCTimestamp.string(unsafeBitCast(value, to: Date.self))) }
        if T.self == Bool.self { return state.writeBool(unsafeBitCast(value, to: Bool.self)) }
        if let integer = Self.integer(value) { return state.append(contentsOf: integer) }
        if T.self == Double.self { return try state.writeNumber(unsafeBitCast(value, to: Double.self)) }
        if T.self == Float.self { return try state.writeNumber(Double(unsafeBitCast(value, to: Float.self))) }
        if T.self == Data.self { return state.writeString(unsafeBitCast(value, to: Data.self).base64EncodedString()) }
        if T.self == URL.self { return state.writeString(unsafeBitCast(value, to: URL.self).absoluteString) }
        if T.self == Decimal.self {
            state.failed = true
            return
        }
        let (depth, start) = (state.stack.count, state.bytes.count)
        // No access to `state` is held across this call: the value's containers write to it themselves.
        try value.encode(to: ValueEncoder(output: self))
        state.finish(depth: depth, start: start)
    }

    /// The decimal text of `value` when it is one of the standard library's integer types (other integer types
    /// encode themselves as one of these).
    private static func integer<T>(_ value: T) -> String? {
        if T.self == Int.self { return String(unsafeBitCast(value, to: Int.self)) }
        if T.self == Int64.self { return String(unsafeBitCast(value, to: Int64.self)) }
        if T.self == Int32.self { return String(unsafeBitCast(value, to: Int32.self)) }
        if T.self == Int16.self { return String(unsafeBitCast(value, to: Int16.self)) }
        if T.self == Int8.self { return String(unsafeBitCast(value, to: Int8.self)) }
        if T.self == UInt.self { return String(unsafeBitCast(value, to: UInt.self)) }
        if T.self == UInt64.self { return String(unsafeBitCast(value, to: UInt64.self)) }
        if T.self == UInt32.self { return String(unsafeBitCast(value, to: UInt32.self)) }
        if T.self == UInt16.self { return String(unsafeBitCast(value, to: UInt16.self)) }
        if T.self == UInt8.self { return String(unsafeBitCast(value, to: UInt8.self)) }
        return nil
    }

    func writeString(_ string: String) { state.writeString(string) }
    func writeBool(_ value: Bool) { state.writeBool(value) }
    func writeInteger(_ value: Int) { state.append(contentsOf: String(value)) }
    func writeNull() { state.append("null") }
    func writeNumber(_ value: Double) throws { try state.writeNumber(value) }
    func open(object: Bool) -> Int { state.open(object: object) }
    func member(of id: Int, key: String?) { state.member(of: id, key: key) }
    func count(of id: Int) -> Int { state.stack.last(where: { $0.id == id })?.count ?? 0 }

    /// `superEncoder`: not followed; what is encoded through it goes to a scratch output, and `encode` throws.
    func unsupported() -> any Encoder {
        state.failed = true
        return ValueEncoder(output: JSONOutput())
    }
}

/// The bytes written so far and the containers still open.
struct JSONBytes {
    var bytes: [UInt8] = []
    var failed = false
    /// Open containers, innermost last: (id, is an object, members so far).
    var stack: [(id: Int, object: Bool, count: Int)] = []
    private var nextID = 0

    init() { bytes.reserveCapacity(1024) }

    mutating func writeBool(_ value: Bool) { append(value ? "true" : "false") }

    mutating func writeNumber(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is not valid in JSON"))
        }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            append(contentsOf: String(Int64(value)))
        } else {
            append(contentsOf: value.description)
        }
    }

    mutating func writeString(_ string: String) {
        bytes.append(0x22)
        var string = string
        string.withUTF8 { utf8 in
            var clean = 0  // start of the run of bytes that need no escape
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<index]))
                switch byte {
                case 0x22: append("\\\"")
                case 0x5C: append("\\\\")
                case 0x0A: append("\\n")
                case 0x0D: append("\\r")
                case 0x09: append("\\t")
                case 0x08: append("\\b")
                case 0x0C: append("\\f")
                default:
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Hex.digit(byte >> 4), Hex.digit(byte & 0x0F)])
                }
                clean = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        bytes.append(0x22)
    }

    /// Literals come here rather than to `append(contentsOf:)`: a `StaticString`'s bytes are copied as they are, where a
    /// `String`'s are read through its UTF-8 view.
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Opens an object or array in the current value's place; returns its id.
    mutating func open(object: Bool) -> Int {
        bytes.append(object ? 0x7B : 0x5B)
        nextID += 1
        stack.append((nextID, object, 0))
        return nextID
    }

    /// Closes every container opened after container `id` and makes room for its next member: a comma, and for an
    /// object the key.
    mutating func member(of id: Int, key: String?) {
        guard let position = stack.lastIndex(where: { $0.id == id }) else {
            failed = true  // written to after a later sibling closed it
            return
        }
        close(downTo: position + 1)
        if stack[position].count > 0 { bytes.append(0x2C) }
        stack[position].count += 1
        if let key {
            writeString(SnakeCaseKeys.convert(name: key))
            bytes.append(0x3A)
        }
    }

    /// After a value's `encode(to:)`: closes the containers it opened; a value that wrote nothing is not followed.
    mutating func finish(depth: Int, start: Int) {
        if bytes.count == start { failed = true }
        close(downTo: depth)
    }

    private mutating func close(downTo depth: Int) {
        while stack.count > depth {
            bytes.append(stack.removeLast().object ? 0x7D : 0x5D)
        }
    }
}

/// The encoder for one value's place in the output.
struct ValueEncoder: Encoder {
    let output: JSONOutput
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(ObjectContainer(output: output, id: output.open(object: true)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        ArrayContainer(output: output, id: output.open(object: false))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValue(output: output) }
}

private struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let output: JSONOutput
    let id: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        output.member(of: id, key: key.stringValue)
        output.writeNull()
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        output.member(of: id, key: key.stringValue)
        try output.write(value)
    }

    // The common leaves without going through the generic path.
    mutating func encode(_ value: String, forKey key: Key) throws {
        output.member(of: id, key: key.stringValue)
        output.writeString(value)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        output.member(of: id, key: key.stringValue)
        output.writeBool(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        output.member(of: id, key: key.stringValue)
        output.writeInteger(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        output.member(of: id, key: key.stringValue)
        try output.writeNumber(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        output.member(of: id, key: key.stringValue)
        return KeyedEncodingContainer(ObjectContainer<NestedKey>(output: output, id: output.open(object: true)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        output.member(of: id, key: key.stringValue)
        return ArrayContainer(output: output, id: output.open(object: false))
    }

    mutating func superEncoder() -> any Encoder { output.unsupported() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { output.unsupported() }
}

private struct ArrayContainer: UnkeyedEncodingContainer {
    let output: JSONOutput
    let id: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { output.count(of: id) }

    mutating func encodeNil() throws {
        output.member(of: id, key: nil)
        output.writeNull()
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        output.member(of: id, key: nil)
        try output.write(value)
    }

    mutating func encode(_ value: String) throws {
        output.member(of: id, key: nil)
        output.writeString(value)
    }

    mutating func encode(_ value: Int) throws {
        output.member(of: id, key: nil)
        output.writeInteger(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        output.member(of: id, key: nil)
        return KeyedEncodingContainer(ObjectContainer<NestedKey>(output: output, id: output.open(object: true)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        output.member(of: id, key: nil)
        return ArrayContainer(output: output, id: output.open(object: false))
    }

    mutating func superEncoder() -> any Encoder { output.unsupported() }
}

private struct SingleValue: SingleValueEncodingContainer {
    let output: JSONOutput
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { output.writeNull() }
    mutating func encode<T: Encodable>(_ value: T) throws { try output.write(value) }
    mutating func encode(_ value: String) throws { output.writeString(value) }
    mutating func encode(_ value: Bool) throws { output.writeBool(value) }
    mutating func encode(_ value: Int) throws { output.writeInteger(value) }
}
