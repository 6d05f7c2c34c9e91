import HTTPTypes
import Logging
import ArrowCore
import Foundation
import Hummingbird

/// The per-request context: Hummingbird's core storage plus who is calling.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthenticationMiddleware`` when a valid bearer token was presented.
    public var principal: Principal?
    /// The principal's own organization, resolved with the token.
    public var organization: Organization?
    /// Set by ``RequestIDMiddleware``.
    public var requestID: String = ""

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// JSON in and out with snake_case keys and ISO 8601 dates, as the seed's API uses. A coder per request: a
    /// shared one serialises on its internal lock and measured slower under load.
    public var requestDecoder: JSONDecoder { APIJSON.decoder() }
    public var responseEncoder: JSONEncoder { APIJSON.encoder() }

    /// The authenticated principal.
    /// - Throws: `unauthorized` (`missing_token`) when the request carried no token.
    public func requirePrincipal() throws -> Principal {
        guard let principal else {
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
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
