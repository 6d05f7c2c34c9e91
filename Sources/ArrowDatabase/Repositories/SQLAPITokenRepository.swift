import ArrowCore
import Foundation
import SQLKit

struct SQLAPITokenRepository: APITokenRepository {
    let db: any SQLDatabase

    static let columns = ["id", "user_id", "name", "kind", "digest", "prefix", "scopes", "expires_at", "revoked_at", "created_at"]

    func create(_ token: APIToken) async throws {
        try await db.insert(into: "api_tokens").columns(Self.columns).values(
            SQLBind(token.id.rawValue), SQLBind(token.userID.rawValue), SQLBind(token.name), SQLBind(token.kind.rawValue),
            SQLBind(token.digest), SQLBind(token.prefix), SQLBind(try Self.encode(scopes: token.scopes)),
            SQLBind(token.expiresAt.map(Timestamp.from)), SQLBind(token.revokedAt.map(Timestamp.from)),
            SQLBind(Timestamp.from(token.createdAt))
        ).run()
    }

    func find(digest: String) async throws -> TokenOwner? {
        // One query per authenticated request: the token, its owner and the owner's organization together.
        let row = try await db.select()
            .columns(Self.columns.map { SQLAlias(SQLColumn($0, table: "t"), as: SQLIdentifier("t_\($0)")) })
            .columns(SQLUserRepository.columns.map { SQLColumn($0, table: "users") })
            .column(SQLColumn("name", table: "o"), as: "o_name")
            .column(SQLColumn("created_at", table: "o"), as: "o_created_at")
            .from(SQLAlias(SQLIdentifier("api_tokens"), as: SQLIdentifier("t")))
            .join("users", on: SQLColumn("user_id", table: "t"), .equal, SQLColumn("id", table: "users"))
            .join(SQLAlias(SQLIdentifier("organizations"), as: SQLIdentifier("o")), method: SQLJoinMethod.left,
                  on: SQLColumn("organization_id", table: "users"), .equal, SQLColumn("id", table: "o"))
            .where(SQLColumn("digest", table: "t"), .equal, SQLBind(digest))
            .first()
        guard let row else { return nil }
        let user = try SQLUserRepository.decode(row)
        let organization = try user.organizationID.map { id in
            Organization(id: id, name: try row.string("o_name"), createdAt: Timestamp.date(try row.int64("o_created_at")))
        }
        return TokenOwner(token: try Self.decode(row, prefix: "t_"), user: user, organization: organization)
    }

    func find(id: TokenID, scope: AccessScope) async throws -> APIToken? {
        try await scopedSelect(scope).where(SQLColumn("id", table: "api_tokens"), .equal, SQLBind(id.rawValue))
            .first().map { try Self.decode($0) }
    }

    func list(user: UserID) async throws -> [APIToken] {
        try await db.select().columns(Self.columns).from("api_tokens").where("user_id", .equal, user.rawValue)
            .orderBy("created_at", .descending).all().map { try Self.decode($0) }
    }

    func revoke(id: TokenID, at date: Date, scope: AccessScope) async throws -> APIToken? {
        guard try await find(id: id, scope: scope) != nil else { return nil }
        try await db.update("api_tokens").set("revoked_at", to: Timestamp.from(date))
            .where("id", .equal, id.rawValue).where(SQLColumn("revoked_at"), .is, SQLLiteral.null).run()
        return try await find(id: id, scope: scope)
    }

    /// Tokens whose owner is within `scope`.
    private func scopedSelect(_ scope: AccessScope) -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0, table: "api_tokens") }).from("api_tokens")
            .join("users", on: SQLColumn("user_id", table: "api_tokens"), .equal, SQLColumn("id", table: "users"))
            .scoped(scope, column: "organization_id", table: "users")
    }

    static func encode(scopes: Set<Permission>?) throws -> String? {
        guard let scopes else { return nil }
        return String(decoding: try JSONEncoder().encode(scopes.map(\.rawValue).sorted()), as: UTF8.self)
    }

    static func decode(_ row: any SQLRow, prefix p: String = "") throws -> APIToken {
        let scopes: Set<Permission>? = try row.optionalString(p + "scopes").map { text in
            let names = try JSONDecoder().decode([String].self, from: Data(text.utf8))
            return Set(try names.map { name in
                guard let permission = Permission(rawValue: name) else {
                    throw DatabaseError(.corruptRow, "api_tokens row has an unknown scope")
                }
                return permission
            })
        }
        guard let kind = APIToken.Kind(rawValue: try row.string(p + "kind")) else {
            throw DatabaseError(.corruptRow, "api_tokens row has an unknown kind")
        }
        return APIToken(
            id: TokenID(try row.string(p + "id")), userID: UserID(try row.string(p + "user_id")), name: try row.string(p + "name"),
            kind: kind, digest: try row.string(p + "digest"), prefix: try row.string(p + "prefix"), scopes: scopes,
            expiresAt: try row.optionalInt64(p + "expires_at").map(Timestamp.date),
            revokedAt: try row.optionalInt64(p + "revoked_at").map(Timestamp.date),
            createdAt: Timestamp.date(try row.int64(p + "created_at")))
    }
}
