/// Failures of object storage, whichever backend: a stable ``Code``, a message, the cause, the location.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case notFound = "not_found", accessDenied = "access_denied", invalidKey = "invalid_key"
            case invalidRange = "invalid_range", invalidPart = "invalid_part", tooLarge = "too_large"
            case lengthMismatch = "length_mismatch", invalidSignature = "invalid_signature", expired
            case alreadyExists = "already_exists", unavailable, `internal`
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }
        public var description: String { value.rawValue }
        public static var notFound: Self { .init(.notFound) }
        public static var accessDenied: Self { .init(.accessDenied) }
        public static var invalidKey: Self { .init(.invalidKey) }
        public static var invalidRange: Self { .init(.invalidRange) }
        public static var invalidPart: Self { .init(.invalidPart) }
        public static var tooLarge: Self { .init(.tooLarge) }
        public static var lengthMismatch: Self { .init(.lengthMismatch) }
        public static var invalidSignature: Self { .init(.invalidSignature) }
        public static var expired: Self { .init(.expired) }
        /// A write named a key that already holds an object: stored objects are never replaced.
        public static var alreadyExists: Self { .init(.alreadyExists) }
        /// The store did not answer (after retries).
        public static var unavailable: Self { .init(.unavailable) }
        public static var `internal`: Self { .init(.internal) }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?
    public var location: String

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String {
        "storage \(code): \(message) (\(location))" + (cause.map { " cause: \($0)" } ?? "")
    }
}
