import ArrowCore
import Foundation
import SQLKit

struct SQLClientConfigRepository: ClientConfigRepository {
    let db: any SQLDatabase

    func find(organization: OrganizationID) async throws -> StoredClientConfig? {
        try await db.select().columns("organization_id", "document", "revision", "updated_at", "updated_by").from("client_configs")
            .where("organization_id", .equal, organization.rawValue).first().map { row in
                StoredClientConfig(
                    organizationID: OrganizationID(try row.string("organization_id")), document: try row.string("document"),
                    revision: Int(try row.int64("revision")), updatedAt: Timestamp.date(try row.int64("updated_at")),
                    updatedBy: try row.optionalString("updated_by").map { UserID($0) })
            }
    }

    func save(_ config: StoredClientConfig, expectedRevision: Int) async throws -> Bool {
        if expectedRevision == 0 {
            // The primary key decides between two first writers: the second inserts nothing.
            let rows = try await db.insert(into: "client_configs")
                .columns("organization_id", "document", "revision", "updated_at", "updated_by")
                .values(SQLBind(config.organizationID.rawValue), SQLBind(config.document), SQLBind(config.revision),
                        SQLBind(Timestamp.from(config.updatedAt)), SQLBind(config.updatedBy?.rawValue))
                .ignoringConflicts(with: ["organization_id"]).returning("organization_id").all()
            return !rows.isEmpty
        }
        let rows = try await db.update("client_configs").set("document", to: config.document).set("revision", to: config.revision)
            .set("updated_at", to: Timestamp.from(config.updatedAt)).set("updated_by", to: config.updatedBy?.rawValue)
            .where("organization_id", .equal, config.organizationID.rawValue).where("revision", .equal, expectedRevision)
            .returning("organization_id").all()
        return !rows.isEmpty
    }
}
