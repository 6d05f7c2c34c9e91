/// A permission a principal may hold. Wire names are stable (`image.admin` is the seed's own).
public enum Permission: String, Codable, Sendable, CaseIterable, Comparable {
    case imageRead = "image.read"
    case imageUpload = "image.upload"
    case imageAdmin = "image.admin"
    case buildTrigger = "build.trigger"
    case buildRead = "build.read"
    case logsRead = "logs.read"
    case orgAdmin = "org.admin"
    /// Listing, creating and revoking one's own API tokens. A token scoped without it cannot mint a token that
    /// outlives it, nor revoke its owner's other tokens.
    case tokenManage = "token.manage"
    case builder = "builder"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A user's role. The role decides the permissions (see ``Role/permissions``) and the reach: a superuser acts on
/// every organization, everyone else only on their own.
public enum Role: String, Codable, Sendable, CaseIterable {
    case superuser
    case admin
    case member
    /// A builder service account: only the builder endpoints.
    case builder

    /// The role → permission table (documented in the README).
    public var permissions: Set<Permission> {
        switch self {
        case .superuser:
            return Set(Permission.allCases)
        case .admin:
            return [.imageRead, .imageUpload, .imageAdmin, .buildTrigger, .buildRead, .logsRead, .orgAdmin, .tokenManage]
        case .member:
            return [.imageRead, .buildRead, .logsRead, .tokenManage]
        case .builder:
            return [.builder]
        }
    }

    /// Roles a human user can hold (service accounts are always ``builder``).
    public static var userRoles: [Role] { [.superuser, .admin, .member] }
}
