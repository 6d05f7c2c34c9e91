/// The domain error: a stable machine-readable ``Code``, a message safe to show to the caller, and an optional
/// underlying cause that is logged but never shown.
///
/// Shaped like NIO's `FileSystemError`: `code` is a struct over a private enum so codes can be added without
/// breaking callers; match on `code`.
public struct ArrowError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidInput = "invalid_input"
            case unauthorized
            case forbidden
            case notFound = "not_found"
            case conflict
            case payloadTooLarge = "payload_too_large"
            case unsupportedMediaType = "unsupported_media_type"
            case unprocessable = "unprocessable"
            case rateLimited = "rate_limited"
            case rangeNotSatisfiable = "range_not_satisfiable"
            case lengthRequired = "length_required"
            case unavailable
            case internalError = "internal"
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The code's wire form, e.g. `not_found`.
        public var description: String { value.rawValue }

        public static var invalidInput: Self { .init(.invalidInput) }
        public static var unauthorized: Self { .init(.unauthorized) }
        public static var forbidden: Self { .init(.forbidden) }
        public static var notFound: Self { .init(.notFound) }
        public static var conflict: Self { .init(.conflict) }
        public static var payloadTooLarge: Self { .init(.payloadTooLarge) }
        public static var unsupportedMediaType: Self { .init(.unsupportedMediaType) }
        public static var unprocessable: Self { .init(.unprocessable) }
        public static var rateLimited: Self { .init(.rateLimited) }
        public static var rangeNotSatisfiable: Self { .init(.rangeNotSatisfiable) }
        public static var lengthRequired: Self { .init(.lengthRequired) }
        public static var unavailable: Self { .init(.unavailable) }
        public static var internalError: Self { .init(.internalError) }
    }

    public var code: Code
    /// A more specific stable reason, e.g. `invalid_credentials` or `token_expired`; shown as the API's error code
    /// when present, so clients can tell apart two failures with the same HTTP status.
    public var reason: String?
    public var message: String
    public var cause: (any Error)?
    /// Seconds the caller should wait (rate limits).
    public var retryAfter: Int?
    /// Every check an input failed (an image's safety checks), shown beside the message.
    public var failedChecks: [FailedCheck]?
    public var location: String

    public init(
        _ code: Code, reason: String? = nil, _ message: String, cause: (any Error)? = nil, retryAfter: Int? = nil,
        failedChecks: [FailedCheck]? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.failedChecks = failedChecks
        self.code = code
        self.reason = reason
        self.message = message
        self.cause = cause
        self.retryAfter = retryAfter
        self.location = "\(file):\(line)"
    }

    /// The code the API reports: the specific reason when there is one, else the general code.
    public var publicCode: String { reason ?? code.description }

    public var description: String {
        var text = "\(publicCode): \(message) (\(location))"
        if let cause { text += " cause: \(cause)" }
        return text
    }

    public static func notFound(_ what: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.notFound, "\(what) not found", file: file, line: line)
    }

    public static func forbidden(_ message: String = "You do not have permission for this action", file: String = #fileID, line: Int = #line) -> Self {
        Self(.forbidden, message, file: file, line: line)
    }
}

/// One failed check: a stable name and what was found.
public struct FailedCheck: Sendable, Codable, Equatable {
    public var check: String
    public var message: String

    public init(check: String, message: String) {
        self.check = check
        self.message = message
    }
}
