import ArrowCore
import Foundation
import SQLKit

struct SQLWebhookRepository: WebhookRepository {
    let db: any SQLDatabase

    static let columns = ["id", "organization_id", "url", "secret", "events", "created_at", "created_by"]

    func create(_ webhook: OrganizationWebhook) async throws {
        try await db.insert(into: "org_webhooks").columns(Self.columns).values(
            SQLBind(webhook.id.rawValue), SQLBind(webhook.organizationID.rawValue), SQLBind(webhook.url), SQLBind(webhook.sealedSecret),
            SQLBind(webhook.events.map(\.rawValue).sorted().joined(separator: ",")), SQLBind(Timestamp.from(webhook.createdAt)),
            SQLBind(webhook.createdBy?.rawValue)
        ).run()
    }

    func find(id: WebhookID, scope: AccessScope) async throws -> OrganizationWebhook? {
        try await select().where("id", .equal, id.rawValue).scoped(scope).first().map(Self.decode)
    }

    func list(organization: OrganizationID) async throws -> [OrganizationWebhook] {
        try await select().where("organization_id", .equal, organization.rawValue).orderBy("created_at").all().map(Self.decode)
    }

    func delete(id: WebhookID, scope: AccessScope, at: Date) async throws -> Bool {
        !(try await db.update("org_webhooks").set("deleted_at", to: Timestamp.from(at)).where("id", .equal, id.rawValue)
            .where("deleted_at", .is, SQLLiteral.null).scoped(scope).returning("id").all()).isEmpty
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0) }).from("org_webhooks").where("deleted_at", .is, SQLLiteral.null)
    }

    static func decode(_ row: any SQLRow) throws -> OrganizationWebhook {
        OrganizationWebhook(
            id: WebhookID(try row.string("id")), organizationID: OrganizationID(try row.string("organization_id")), url: try row.string("url"),
            sealedSecret: try row.string("secret"),
            events: Set(try row.string("events").split(separator: ",").compactMap { BuildEvent(rawValue: String($0)) }),
            createdAt: Timestamp.date(try row.int64("created_at")), createdBy: try row.optionalString("created_by").map { UserID($0) })
    }
}
