import Foundation

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

extension DatabaseConfiguration.Kind: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `postgres(url: postgres://arrow:<redacted>@db:5432/arrow)`: the URL's password never shows.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite(path: \(path))"
        case .postgres(let url): "postgres(url: \(Self.redacting(url)))"
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        switch self {
        case .sqlite(let path): Mirror(self, children: ["path": path], displayStyle: .enum)
        case .postgres(let url): Mirror(self, children: ["url": Self.redacting(url)], displayStyle: .enum)
        }
    }

    /// The URL with any password (and any `password=` query parameter) replaced by `<redacted>`.
    static func redacting(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "<redacted unparsable URL>" }
        if components.password != nil { components.percentEncodedPassword = "redacted" }
        components.queryItems = components.queryItems?.map { item in
            item.name.lowercased() == "password" ? URLQueryItem(name: item.name, value: "redacted") : item
        }
        return (components.string ?? "<redacted unparsable URL>").replacingOccurrences(of: ":redacted@", with: ":<redacted>@")
    }
}
