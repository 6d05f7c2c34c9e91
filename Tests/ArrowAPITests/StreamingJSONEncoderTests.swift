@testable import ArrowAPI
import Foundation
import Testing

/// The streaming encoder writes the document Foundation's encoder (with the API's conventions) writes, for random
/// documents of every shape the API's responses use, and hands back to Foundation where it cannot follow a value.
/// (In debug builds every API response is also checked against Foundation as it is sent: see `APIResponseEncoder`.)
@Suite struct StreamingJSONEncoderTests {
    /// A random document: objects with camelCase keys (snake-cased on the way out), arrays, optionals left out or
    /// null, strings with quotes, backslashes, control characters and non-ASCII text, numbers at their edges, dates.
    indirect enum Node: Encodable {
        case object([(String, Node)])
        case array([Node])
        case string(String)
        case int(Int)
        case uint8(UInt8)
        case double(Double)
        case bool(Bool)
        case date(Date)
        case data(Data)
        case optional(String?)
        case dictionary([String: Int])

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .object(let members):
                var container = encoder.container(keyedBy: Key.self)
                for (key, value) in members {
                    if case .optional(let text) = value {
                        try container.encodeIfPresent(text, forKey: Key(stringValue: key))
                    } else {
                        try container.encode(value, forKey: Key(stringValue: key))
                    }
                }
            case .array(let items):
                var container = encoder.unkeyedContainer()
                for item in items { try container.encode(item) }
            case .string(let text): try text.encode(to: encoder)
            case .int(let number): try number.encode(to: encoder)
            case .uint8(let number): try number.encode(to: encoder)
            case .double(let number): try number.encode(to: encoder)
            case .bool(let flag): try flag.encode(to: encoder)
            case .date(let date): try date.encode(to: encoder)
            case .data(let data): try data.encode(to: encoder)
            case .optional(let text): try text.encode(to: encoder)
            case .dictionary(let values): try values.encode(to: encoder)
            }
        }
    }

    static func randomString(_ generator: inout some RandomNumberGenerator) -> String {
        let pieces = ["a", "Z", "9", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "日本", "🚀", "\u{2028}", " ", "fileSize", "b2FileId"]
        return (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func randomKey(_ generator: inout some RandomNumberGenerator) -> String {
        ["id", "fileName", "b2FileId", "imageID", "createdAt", "x", "URLString", "Content-Type", "a b", "already_snake"].randomElement(using: &generator)!
    }

    static func node(depth: Int, _ generator: inout some RandomNumberGenerator) -> Node {
        let leafKinds = 9
        let kind = Int.random(in: 0..<(depth < 4 ? leafKinds + 2 : leafKinds), using: &generator)
        switch kind {
        case 0: return .string(randomString(&generator))
        case 1: return .int([0, -1, 1, .max, .min, Int.random(in: -1_000_000...1_000_000, using: &generator)].randomElement(using: &generator)!)
        case 2: return .uint8(UInt8.random(in: 0...255, using: &generator))
        case 3: return .double([0.1, -2.5, 1e300, .leastNonzeroMagnitude, 123_456_789.125, 1.0, -0.0, Double.random(in: -1e6...1e6, using: &generator)].randomElement(using: &generator)!)
        case 4: return .bool(Bool.random(using: &generator))
        case 5: return .date(Date(timeIntervalSince1970: Double(Int.random(in: 0...4_000_000_000, using: &generator))))
        case 6: return .data(Data((0..<Int.random(in: 0...20, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        case 7: return .optional(Bool.random(using: &generator) ? nil : randomString(&generator))
        case 8: return .dictionary(Dictionary((0..<Int.random(in: 0...3, using: &generator)).map { _ in (randomKey(&generator), 1) }, uniquingKeysWith: { a, _ in a }))
        case 9:
            var seen = Set<String>()
            let members = (0..<Int.random(in: 0...5, using: &generator)).compactMap { _ -> (String, Node)? in
                let key = randomKey(&generator)
                // Distinct after snake-casing too ("imageID" and "image_id" would collide in either encoder).
                guard seen.insert(SnakeCaseKeys.convert(name: key)).inserted else { return nil }
                return (key, node(depth: depth + 1, &generator))
            }
            return .object(members)
        default:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in node(depth: depth + 1, &generator) })
        }
    }

    @Test func randomDocumentsMatchFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        var documents = 0
        for _ in 0..<5000 {
            let document = Self.node(depth: 0, &generator)
            guard case .object = document else { continue }
            documents += 1
            let bytes = try StreamingJSONEncoder.encode(document)
            guard APIResponseEncoder.agree(bytes, document) else {
                let foundation = String(decoding: try APIJSON.encoder().encode(document), as: UTF8.self)
                Issue.record("streaming: \(String(decoding: bytes, as: UTF8.self))\nFoundation: \(foundation)")
                return
            }
        }
        #expect(documents > 300)
    }

    @Test func stringsAreEscapedAsJSONRequires() throws {
        let bytes = try StreamingJSONEncoder.encode(["k": "q\"b\\n\nt\tz\u{0}\u{1f}é🚀"])
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"k":"q\"b\\n\nt\tz\u0000\u001fé🚀"}"#)
    }

    @Test func keysAreSnakeCasedAndNilsLeftOut() throws {
        struct Sample: Encodable {
            var fileSize = 3
            var b2FileId: String? = nil
            var createdAt = Date(timeIntervalSince1970: 0)
            var tags = ["a"]
        }
        let text = String(decoding: try StreamingJSONEncoder.encode(Sample()), as: UTF8.self)
        #expect(text == #"{"file_size":3,"created_at":"1970-01-01T00:00:00Z","tags":["a"]}"#)
    }

    /// Every leaf type the encoder recognises by its metatype, at its extremes, writes what Foundation writes.
    @Test func everyLeafTypeMatchesFoundation() throws {
        // Scalars and array elements both reach the encoder's generic `write`, where leaves are recognised.
        struct Leaves: Encodable {
            var int = [Int.min, Int.max], int64 = [Int64.min, Int64.max], int32 = [Int32.min, Int32.max]
            var int16 = [Int16.min, Int16.max], int8 = [Int8.min, Int8.max], uint = UInt.max, uint64 = UInt64.max
            var uint32 = UInt32.max, uint16 = UInt16.max, uint8 = UInt8.max
            var bool = [true, false], double = [0.1, -2.5e-300], float = Float(1.5), whole = 3.0
            var data = Data([0, 1, 254, 255]), url = URL(string: "https://example.test/a?b=c")!, date = Date(timeIntervalSince1970: 1_700_000_000)
        }
        let bytes = try StreamingJSONEncoder.encode(Leaves())
        #expect(APIResponseEncoder.agree(bytes, Leaves()), "\(String(decoding: bytes, as: UTF8.self))")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""int":[-9223372036854775808,9223372036854775807]"#))
        #expect(text.contains(#""uint64":18446744073709551615"#))
        #expect(text.contains(#""int8":[-128,127]"#))
        #expect(text.contains(#""date":"2023-11-14T22:13:20Z""#))
    }

    /// Values that use Codable in ways the streaming encoder does not follow get Foundation's document.
    @Test func unusualCodableFallsBackToFoundation() throws {
        struct Interleaved: Encodable {
            enum Keys: String, CodingKey { case first, second, late }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var first = container.nestedContainer(keyedBy: Keys.self, forKey: .first)
                var second = container.nestedContainer(keyedBy: Keys.self, forKey: .second)
                try second.encode(1, forKey: .late)
                try first.encode(2, forKey: .late)  // the first nested object was already closed
            }
        }
        class Base: Encodable { var baseValue = 1 }
        final class Derived: Base {
            override func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Node.Key.self)
                try container.encode(2, forKey: Node.Key(stringValue: "derivedValue"))
                try super.encode(to: container.superEncoder())
            }
        }
        struct Silent: Encodable { func encode(to encoder: any Encoder) throws {} }
        struct Money: Encodable { var amount = Decimal(string: "12.50")! }

        #expect(throws: StreamingJSONEncoder.Unsupported.self) { try StreamingJSONEncoder.encode(Interleaved()) }
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { try StreamingJSONEncoder.encode(Derived()) }
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { try StreamingJSONEncoder.encode(["x": Silent()]) }
        #expect(throws: StreamingJSONEncoder.Unsupported.self) { try StreamingJSONEncoder.encode(Money()) }
        for value in [Interleaved() as any Encodable, Derived(), ["x": Silent()], Money()] {
            #expect(try APIResponseEncoder.bytes(value) == Array(try APIJSON.encoder().encode(value)))
        }
    }

    @Test func nonFiniteNumbersAreRefused() {
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(["x": Double.infinity]) }
    }
}
