import HTTPTypes
import Logging
import ArrowCore
import Foundation
import Hummingbird

// Wire shapes of the identity endpoints. Core models are never encoded directly: these decide what leaves the
// server (no password hashes, no token digests).

struct OrganizationDTO: ResponseCodable {
    var id: String
    var name: String
    var createdAt: Date

    init(_ org: Organization) {
        id = org.id.rawValue
        name = org.name
        createdAt = org.createdAt
    }
}

struct UserDTO: ResponseCodable {
    var id: String
    var organizationId: String?
    var email: String
    var name: String
    var role: String
    var kind: String
    var createdAt: Date

    init(_ user: User) {
        id = user.id.rawValue
        organizationId = user.organizationID?.rawValue
        email = user.email
        name = user.name
        role = user.role.rawValue
        kind = user.kind.rawValue
        createdAt = user.createdAt
    }
}

struct TokenDTO: ResponseCodable {
    var id: String
    var name: String
    var kind: String
    var prefix: String
    var scopes: [String]?
    var expiresAt: Date?
    var revokedAt: Date?
    var createdAt: Date

    init(_ token: APIToken) {
        id = token.id.rawValue
        name = token.name
        kind = token.kind.rawValue
        prefix = token.prefix
        scopes = token.scopes.map { $0.map(\.rawValue).sorted() }
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
        createdAt = token.createdAt
    }
}

/// A token just created: the secret appears here once and nowhere else.
struct IssuedTokenDTO: ResponseCodable {
    var token: String
    var apiToken: TokenDTO

    init(_ issued: IssuedToken) {
        token = issued.secret
        apiToken = TokenDTO(issued.token)
    }
}

struct LoginRequest: Decodable {
    var email: String
    var password: String
}

struct LoginResponse: ResponseCodable {
    var token: String
    var expiresAt: Date?
    var user: UserDTO
}

struct MeResponse: ResponseCodable {
    var user: UserDTO
    var organization: OrganizationDTO?
    var role: String
    var permissions: [String]
    var tokenId: String
}

struct CreateTokenRequest: Decodable {
    var name: String
    var scopes: [String]?
    var expiresAt: Date?
    var expiresInSeconds: Int?
}

struct CreateOrganizationRequest: Decodable {
    var name: String
}

struct CreateUserRequest: Decodable {
    var email: String
    var name: String?
    var password: String
    var role: String
}

struct UpdateUserRequest: Decodable {
    var role: String
}

struct CreateServiceAccountRequest: Decodable {
    var name: String
}

struct ServiceAccountResponse: ResponseCodable {
    var serviceAccount: UserDTO
    var token: String
}

struct AuditEventDTO: ResponseCodable {
    var id: Int64?
    var organizationId: String?
    var actorId: String?
    var action: String
    var target: String?
    var details: [String: String]
    var createdAt: Date

    init(_ event: AuditEvent) {
        id = event.id
        organizationId = event.organizationID?.rawValue
        actorId = event.actorID?.rawValue
        action = event.action.rawValue
        target = event.target
        details = event.details
        createdAt = event.createdAt
    }
}

/// A list response: `{"items": [...]}`, so fields (paging) can be added without breaking clients.
struct ListResponse<Item: Codable & Sendable>: ResponseCodable {
    var items: [Item]
}

extension Role {
    /// Parses a role from request input.
    /// - Throws: `unprocessable` (`invalid_role`).
    static func parse(_ text: String) throws -> Role {
        guard let role = Role(rawValue: text) else {
            let names = Role.userRoles.map(\.rawValue).joined(separator: ", ")
            throw ArrowError(.unprocessable, reason: "invalid_role", "Unknown role '\(text)'; expected one of \(names)")
        }
        return role
    }
}

extension Permission {
    /// - Throws: `unprocessable` (`invalid_scope`).
    static func parse(_ names: [String]) throws -> Set<Permission> {
        Set(try names.map { name in
            guard let permission = Permission(rawValue: name) else {
                throw ArrowError(.unprocessable, reason: "invalid_scope", "Unknown permission '\(name)'")
            }
            return permission
        })
    }
}

// DTOs that carry a password or a token secret show themselves without it, should one ever be logged.

extension IssuedTokenDTO: RedactingReflection {
    var shownFields: KeyValuePairs<String, Any> { ["token": Redacted(token), "apiToken": apiToken] }
}

extension LoginRequest: RedactingReflection {
    var shownFields: KeyValuePairs<String, Any> { ["email": email, "password": Redacted(password)] }
}

extension LoginResponse: RedactingReflection {
    var shownFields: KeyValuePairs<String, Any> { ["token": Redacted(token), "expiresAt": expiresAt as Any, "user": user] }
}

extension CreateUserRequest: RedactingReflection {
    var shownFields: KeyValuePairs<String, Any> {
        ["email": email, "name": name as Any, "password": Redacted(password), "role": role]
    }
}

extension ServiceAccountResponse: RedactingReflection {
    var shownFields: KeyValuePairs<String, Any> { ["serviceAccount": serviceAccount, "token": Redacted(token)] }
}
