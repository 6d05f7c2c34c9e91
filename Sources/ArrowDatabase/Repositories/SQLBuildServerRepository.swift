import ArrowCore
import Foundation
import SQLKit

struct SQLBuildServerRepository: BuildServerRepository {
    let db: any SQLDatabase

    func insert(_ server: BuildServer) async throws -> Bool {
        let settings = String(decoding: try JSONEncoder().encode(server.settings), as: UTF8.self)
        let rows = try await db.insert(into: "build_servers")
            .columns("organization_id", "id", "name", "settings", "sealed_secret", "created_at", "created_by")
            .values(SQLBind(server.organizationID.rawValue), SQLBind(server.id), SQLBind(server.name), SQLBind(settings), SQLBind(server.sealedSecret),
                    SQLBind(Timestamp.from(server.createdAt)), SQLBind(server.createdBy?.rawValue))
            .ignoringConflicts(with: ["organization_id", "id"]).returning("id").all()
        return !rows.isEmpty
    }

    func find(id: String, organization: OrganizationID) async throws -> BuildServer? {
        try await select().where("organization_id", .equal, organization.rawValue).where("id", .equal, id).first().map(Self.server)
    }

    func list(organization: OrganizationID) async throws -> [BuildServer] {
        try await select().where("organization_id", .equal, organization.rawValue).orderBy("id").all().map(Self.server)
    }

    func delete(id: String, organization: OrganizationID) async throws -> Bool {
        !(try await db.delete(from: "build_servers").where("organization_id", .equal, organization.rawValue).where("id", .equal, id)
            .returning("id").all()).isEmpty
    }

    func select() -> SQLSelectBuilder {
        db.select().columns("organization_id", "id", "name", "settings", "sealed_secret", "created_at", "created_by").from("build_servers")
    }

    static func server(_ row: any SQLRow) throws -> BuildServer {
        BuildServer(id: try row.string("id"), organizationID: OrganizationID(try row.string("organization_id")), name: try row.string("name"),
                    settings: try JSONDecoder().decode(BuildServer.Settings.self, from: Data(try row.string("settings").utf8)),
                    sealedSecret: try row.string("sealed_secret"), createdAt: Timestamp.date(try row.int64("created_at")),
                    createdBy: try row.optionalString("created_by").map { UserID($0) })
    }
}
