import ArrowCore
import PostgresNIO
import SQLiteNIO

/// Failures of the database layer, in NIO's error shape: a stable code, a message, the cause, the location.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable { case connection, migration, query, corruptRow = "corrupt_row" }
        private let value: Value
        private init(_ value: Value) { self.value = value }
        public var description: String { value.rawValue }
        public static var connection: Self { .init(.connection) }
        public static var migration: Self { .init(.migration) }
        public static var query: Self { .init(.query) }
        public static var corruptRow: Self { .init(.corruptRow) }
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
        "database \(code): \(message) (\(location))" + (cause.map { " cause: \(String(reflecting: $0))" } ?? "")
    }
}

/// Whether `error` is a unique-constraint violation, on either dialect.
func isUniqueViolation(_ error: any Error) -> Bool {
    if let pg = error as? PSQLError { return pg.serverInfo?[.sqlState] == "23505" }
    if let lite = error as? SQLiteError { return lite.reason == .constraintUniqueFailed || lite.reason == .constraintPrimaryKeyFailed || (lite.reason == .constraint && lite.message.contains("UNIQUE")) }
    return false
}

/// Runs `body`, turning a unique violation into the domain's `conflict` error.
func mappingConflict<R>(_ message: String, reason: String, _ body: () async throws -> R) async throws -> R {
    do {
        return try await body()
    } catch where isUniqueViolation(error) {
        throw ArrowError(.conflict, reason: reason, message, cause: error)
    }
}
