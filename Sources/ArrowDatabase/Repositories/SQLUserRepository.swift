import ArrowCore
import SQLKit

struct SQLUserRepository: UserRepository {
    let db: any SQLDatabase

    static let columns = ["id", "organization_id", "email", "name", "role", "kind", "password_hash", "created_at"]

    func create(_ user: User) async throws {
        try await mappingConflict("A user with this email exists", reason: "email_taken") {
            try await db.insert(into: "users").columns(Self.columns).values(
                SQLBind(user.id.rawValue), SQLBind(user.organizationID?.rawValue), SQLBind(user.email), SQLBind(user.name),
                SQLBind(user.role.rawValue), SQLBind(user.kind.rawValue), SQLBind(user.passwordHash),
                SQLBind(Timestamp.from(user.createdAt))
            ).run()
        }
    }

    func find(id: UserID, scope: AccessScope) async throws -> User? {
        try await select().where("id", .equal, id.rawValue).scoped(scope).first().map(Self.decode)
    }

    func find(email: String) async throws -> User? {
        try await select().where("email", .equal, email).first().map(Self.decode)
    }

    func list(organization: OrganizationID, scope: AccessScope) async throws -> [User] {
        try await select().where("organization_id", .equal, organization.rawValue).scoped(scope)
            .orderBy("email").all().map(Self.decode)
    }

    func exists(role: Role) async throws -> Bool {
        try await db.select().column("id").from("users").where("role", .equal, role.rawValue).limit(1).first() != nil
    }

    func updateRole(id: UserID, role: Role, scope: AccessScope) async throws -> User? {
        try await db.update("users").set("role", to: role.rawValue).where("id", .equal, id.rawValue).scoped(scope).run()
        return try await find(id: id, scope: scope)
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0, table: "users") }).from("users")
    }

    static func decode(_ row: any SQLRow) throws -> User {
        guard let role = Role(rawValue: try row.string("role")), let kind = User.Kind(rawValue: try row.string("kind")) else {
            throw DatabaseError(.corruptRow, "users row has an unknown role or kind")
        }
        return User(
            id: UserID(try row.string("id")), organizationID: try row.optionalString("organization_id").map { OrganizationID($0) },
            email: try row.string("email"), name: try row.string("name"), role: role, kind: kind,
            passwordHash: try row.optionalString("password_hash"), createdAt: Timestamp.date(try row.int64("created_at")))
    }
}
