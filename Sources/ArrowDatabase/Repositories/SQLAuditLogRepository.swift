import ArrowCore
import Foundation
import SQLKit

struct SQLAuditLogRepository: AuditLogRepository {
    let db: any SQLDatabase

    func append(_ event: AuditEvent) async throws {
        let details = String(decoding: try JSONEncoder().encode(event.details), as: UTF8.self)
        try await db.insert(into: "audit_log")
            .columns("organization_id", "actor_id", "action", "target", "details", "created_at")
            .values(SQLBind(event.organizationID?.rawValue), SQLBind(event.actorID?.rawValue), SQLBind(event.action.rawValue),
                    SQLBind(event.target), SQLBind(details), SQLBind(Timestamp.from(event.createdAt)))
            .run()
    }

    func list(scope: AccessScope, limit: Int) async throws -> [AuditEvent] {
        try await db.select()
            .columns("id", "organization_id", "actor_id", "action", "target", "details", "created_at")
            .from("audit_log").scoped(scope).orderBy("id", .descending).limit(limit)
            .all().map { row in
                guard let action = AuditEvent.Action(rawValue: try row.string("action")) else {
                    throw DatabaseError(.corruptRow, "audit_log row has an unknown action")
                }
                return AuditEvent(
                    id: try row.int64("id"), organizationID: try row.optionalString("organization_id").map { OrganizationID($0) },
                    actorID: try row.optionalString("actor_id").map { UserID($0) }, action: action,
                    target: try row.optionalString("target"),
                    details: try JSONDecoder().decode([String: String].self, from: Data(try row.string("details").utf8)),
                    createdAt: Timestamp.date(try row.int64("created_at")))
            }
    }
}
