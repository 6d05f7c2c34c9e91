import ArrowCore
import SQLKit

struct SQLOrganizationRepository: OrganizationRepository {
    let db: any SQLDatabase

    func create(_ organization: Organization) async throws {
        try await mappingConflict("An organization with this name exists", reason: "organization_exists") {
            try await db.insert(into: "organizations")
                .columns("id", "name", "created_at")
                .values(SQLBind(organization.id.rawValue), SQLBind(organization.name), SQLBind(Timestamp.from(organization.createdAt)))
                .run()
        }
    }

    func find(id: OrganizationID, scope: AccessScope) async throws -> Organization? {
        try await select().where("id", .equal, id.rawValue).scoped(scope, column: "id").first().map(Self.decode)
    }

    func find(name: String, scope: AccessScope) async throws -> Organization? {
        try await select().where("name", .equal, name).scoped(scope, column: "id").first().map(Self.decode)
    }

    func list(scope: AccessScope) async throws -> [Organization] {
        try await select().scoped(scope, column: "id").orderBy("name").all().map(Self.decode)
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns("id", "name", "created_at").from("organizations")
    }

    static func decode(_ row: any SQLRow) throws -> Organization {
        Organization(id: OrganizationID(try row.string("id")), name: try row.string("name"),
                     createdAt: Timestamp.date(try row.int64("created_at")))
    }
}
