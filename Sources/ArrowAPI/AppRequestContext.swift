import HTTPTypes
import Logging
import ArrowCore
import Foundation
import Synchronization
import Hummingbird

/// The per-request context: Hummingbird's core storage plus who is calling.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``BearerAuthentication`` when a valid bearer token was presented.
    public var principal: Principal?
    /// The principal's own organization, resolved with the token.
    public var organization: Organization?
    /// Set by ``EdgeMiddleware``.
    public var requestID: String = ""
    /// The console session's secret when the request was authenticated by its cookie rather than a bearer token.
    var sessionSecret: String?
    /// Why the request's session cookie was not used (CSRF token missing, session expired or revoked); reported by
    /// ``requirePrincipal()``.
    var sessionRefusal: ArrowError?

    /// The peer's IP address (login throttling); nil when the channel has none (the in-process test client).
    public let clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// JSON in and out with snake_case keys and ISO 8601 dates, as the seed's API uses. A decoder per request: a
    /// shared one serialises on its internal lock and measured slower under load.
    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }

    /// The authenticated principal.
    /// - Throws: `unauthorized` (`missing_token`) when the request carried no token.
    public func requirePrincipal() throws -> Principal {
        guard let principal else {
            if let sessionRefusal { throw sessionRefusal }
            throw ArrowError(.unauthorized, reason: "missing_token", "Authentication required: send Authorization: Bearer <token>")
        }
        return principal
    }

    /// The principal, which must hold `permission`.
    public func require(_ permission: Permission) throws -> Principal {
        let principal = try requirePrincipal()
        try principal.require(permission)
        return principal
    }
}

/// The API's JSON conventions in one place.
public enum APIJSON {

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom(SnakeCaseKeys.convert)
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(UTCTimestamp.string(date))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// Foundation's `.convertToSnakeCase`, remembered per key: the conversion itself (a scan and a new string for every
/// key of every response) cost a fifth of the API's throughput. DTO property names are a small fixed set.
enum SnakeCaseKeys {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) {
            stringValue = String(intValue)
            self.intValue = intValue
        }
    }

    private static let cache = Mutex<[String: String]>([:])

    @Sendable static func convert(_ path: [any CodingKey]) -> any CodingKey {
        let key = path.last!
        if key.intValue != nil { return key }
        return Key(stringValue: convert(name: key.stringValue))
    }

    static func convert(name: String) -> String {
        // Only identifiers are converted: dictionary keys such as header names stay as they are. An identifier
        // without an upper-case letter is its own snake case, and most keys are like that (`id`, `name`): they
        // skip the cache's lock.
        var upperCase = false
        for byte in name.utf8 {
            if byte >= 0x41 && byte <= 0x5A {
                upperCase = true
            } else if !((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)) {
                return name
            }
        }
        guard upperCase else { return name }
        if let known = cache.withLock({ $0[name] }) { return known }
        let converted = snakeCase(name)
        cache.withLock { cache in
            if cache.count < 4096 { cache[name] = converted }
        }
        return converted
    }

    /// `fileSize` → `file_size`, `b2FileId` → `b2_file_id`, `imageID` → `image_id` (Foundation's rule: an upper-case
    /// run is one word, and its last letter starts the next word when a lower-case letter follows).
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        var out = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                if !previous.isUppercase || (next?.isLowercase ?? false) { out.append("_") }
            }
            out.append(contentsOf: character.lowercased())
        }
        return out
    }
}
