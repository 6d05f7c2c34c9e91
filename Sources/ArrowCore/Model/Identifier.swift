import Foundation

/// A typed identifier: a string on the wire and in the database, but a distinct type per entity so that an
/// organization id can never be passed where a user id is expected.
public struct Identifier<Entity>: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// A new random identifier (UUID v4, lower-case, as the database stores it).
    public static func generate() -> Self { Self(UUID().uuidString.lowercased()) }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}
