/// Which database to use, and how many connections to keep.
public struct DatabaseConfiguration: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An SQLite file (the embedded default).
        case sqlite(path: String)
        /// A PostgreSQL URL, `postgres://user:password@host:port/database`.
        case postgres(url: String)
    }

    public var kind: Kind
    /// Connections per event loop (PostgreSQL); SQLite uses the same number of reader connections.
    public var connectionsPerEventLoop: Int

    public init(kind: Kind, connectionsPerEventLoop: Int = 4) {
        self.kind = kind
        self.connectionsPerEventLoop = connectionsPerEventLoop
    }

    /// The dialect this configuration selects.
    public var dialect: SQLDialectKind {
        switch kind {
        case .sqlite: return .sqlite
        case .postgres: return .postgres
        }
    }
}

/// The two SQL dialects we speak; migrations and a few statements differ between them.
public enum SQLDialectKind: String, Sendable {
    case sqlite
    case postgres
}
