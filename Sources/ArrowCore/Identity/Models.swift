import Foundation

public enum OrganizationTag {}
public enum UserTag {}
public enum TokenTag {}
public typealias OrganizationID = Identifier<OrganizationTag>
public typealias UserID = Identifier<UserTag>
public typealias TokenID = Identifier<TokenTag>

public struct Organization: Sendable, Equatable, Codable {
    public var id: OrganizationID
    public var name: String
    public var createdAt: Date

    public init(id: OrganizationID = .generate(), name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A human user or a service account (``Kind/service``, role ``Role/builder``, no password).
public struct User: Sendable, Equatable, Codable {
    public enum Kind: String, Codable, Sendable { case human, service }

    public var id: UserID
    /// Nil only for a global service account that serves every organization.
    public var organizationID: OrganizationID?
    public var email: String
    public var name: String
    public var role: Role
    public var kind: Kind
    /// bcrypt hash; nil for service accounts, which authenticate by token only.
    public var passwordHash: String?
    public var createdAt: Date

    public init(
        id: UserID = .generate(), organizationID: OrganizationID?, email: String, name: String, role: Role,
        kind: Kind = .human, passwordHash: String?, createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.email = email
        self.name = name
        self.role = role
        self.kind = kind
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}

/// A bearer token. Only the SHA-256 digest of the secret is stored; the secret is shown once at creation.
public struct APIToken: Sendable, Equatable, Codable {
    public enum Kind: String, Codable, Sendable {
        /// Issued by `POST /api/auth/login`, short-lived.
        case session
        /// Created explicitly; optional expiry.
        case api
    }

    public var id: TokenID
    public var userID: UserID
    public var name: String
    public var kind: Kind
    /// Hex SHA-256 of the secret.
    public var digest: String
    /// The first characters of the secret, to recognise a token in lists without revealing it.
    public var prefix: String
    /// Nil means all of the owner's permissions; otherwise the token holds at most these.
    public var scopes: Set<Permission>?
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var createdAt: Date

    public init(
        id: TokenID = .generate(), userID: UserID, name: String, kind: Kind, digest: String, prefix: String,
        scopes: Set<Permission>?, expiresAt: Date?, revokedAt: Date? = nil, createdAt: Date
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.kind = kind
        self.digest = digest
        self.prefix = prefix
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.createdAt = createdAt
    }

    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}

/// One entry of the audit log.
public struct AuditEvent: Sendable, Equatable, Codable {
    public enum Action: String, Codable, Sendable {
        case loginSucceeded = "login.succeeded"
        case loginFailed = "login.failed"
        case tokenCreated = "token.created"
        case tokenRevoked = "token.revoked"
        case roleChanged = "role.changed"
        case userCreated = "user.created"
        case organizationCreated = "organization.created"
        case serviceAccountCreated = "service_account.created"
        case imageUploaded = "image.uploaded"
        case imageRejected = "image.rejected"
        case imageUpdated = "image.updated"
        case imageDeleted = "image.deleted"
        case imageShared = "image.shared"
        case imageUnshared = "image.unshared"
        case imageVisibilityChanged = "image.visibility_changed"
        case imagePublished = "image.published"
        case imageUnpublished = "image.unpublished"
        case defaultImagesChanged = "collection.defaults_changed"
        case clientConfigUpdated = "client_config.updated"
        case buildServerAdded = "build_server.added"
        case buildServerRemoved = "build_server.removed"
        case webhookCreated = "webhook.created"
        case webhookDeleted = "webhook.deleted"
    }

    public var id: Int64?
    public var organizationID: OrganizationID?
    public var actorID: UserID?
    public var action: Action
    /// What the action was about, e.g. a user or token id.
    public var target: String?
    /// Extra facts, never secrets.
    public var details: [String: String]
    public var createdAt: Date

    public init(
        id: Int64? = nil, organizationID: OrganizationID?, actorID: UserID?, action: Action, target: String?,
        details: [String: String] = [:], createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.actorID = actorID
        self.action = action
        self.target = target
        self.details = details
        self.createdAt = createdAt
    }
}

// Types that hold a credential show themselves without it (logs, errors, `dump`, service descriptions).

extension User: RedactingReflection {
    public var shownFields: KeyValuePairs<String, Any> {
        ["id": id, "organizationID": organizationID as Any, "email": email, "name": name, "role": role, "kind": kind,
         "passwordHash": Redacted(passwordHash), "createdAt": createdAt]
    }
}

extension APIToken: RedactingReflection {
    public var shownFields: KeyValuePairs<String, Any> {
        ["id": id, "userID": userID, "name": name, "kind": kind, "digest": Redacted(digest), "prefix": prefix,
         "scopes": scopes as Any, "expiresAt": expiresAt as Any, "revokedAt": revokedAt as Any, "createdAt": createdAt]
    }
}
