/// A secret that never shows itself: its description, debug description and reflection all read `<redacted>`, so a
/// type holding one can be logged, interpolated, dumped or described by a service group without leaking it. Code
/// that needs the secret reads ``value`` where it uses it. Deliberately not `Codable`: encoding a secret is a choice a
/// DTO makes by reading ``value``.
public struct Redacted<Value: Sendable>: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var value: Value

    public init(_ value: Value) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Redacted: Equatable where Value: Equatable {}
extension Redacted: Hashable where Value: Hashable {}

/// A type that holds a secret and shows itself without it: `description`, `debugDescription` and reflection (`dump`,
/// `Mirror`, a service group's description) list ``shownFields``, where each secret is a ``Redacted`` value.
public protocol RedactingReflection: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The type's fields as they may be shown, secrets wrapped in ``Redacted``.
    var shownFields: KeyValuePairs<String, Any> { get }
}

extension RedactingReflection {
    public var customMirror: Mirror { Mirror(self, children: shownFields, displayStyle: .struct) }

    public var description: String {
        "\(Self.self)(" + shownFields.map { "\($0.key): \(String(reflecting: $0.value))" }.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }
}
