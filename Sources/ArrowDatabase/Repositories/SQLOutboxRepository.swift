import ArrowCore
import Foundation
import SQLKit

struct SQLOutboxRepository: OutboxRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "kind", "organization_id", "subject", "body", "status", "attempts", "next_attempt_at", "last_http_status",
        "last_error", "created_at", "delivered_at", "webhook_id",
    ]

    func add(_ message: OutboxMessage) async throws {
        try await db.insert(into: "webhook_outbox").columns(Self.columns).values(
            SQLBind(message.id.rawValue), SQLBind(message.kind.rawValue), SQLBind(message.organizationID?.rawValue),
            SQLBind(message.subject), SQLBind(message.body), SQLBind(message.status.rawValue), SQLBind(message.attempts),
            SQLBind(Timestamp.from(message.nextAttemptAt)), SQLBind(message.lastHTTPStatus), SQLBind(message.lastError),
            SQLBind(Timestamp.from(message.createdAt)), SQLBind(message.deliveredAt.map(Timestamp.from)),
            SQLBind(message.webhookID?.rawValue)
        ).run()
    }

    func takeDue(now: Date, limit: Int, leaseSeconds: Int) async throws -> [OutboxMessage] {
        let nowMS = Timestamp.from(now)
        let due = try await select().where("status", .equal, OutboxMessage.Status.pending.rawValue)
            .where("next_attempt_at", .lessThanOrEqual, nowMS)
            .where(group: { $0.where("locked_until", .is, SQLLiteral.null).orWhere("locked_until", .lessThan, nowMS) })
            .orderBy("next_attempt_at").limit(limit).all().map(Self.decode)
        var taken: [OutboxMessage] = []
        for message in due {
            // Compare-and-set on the lock: another dispatcher that took it first wins.
            let rows = try await db.update("webhook_outbox").set("locked_until", to: nowMS + Int64(leaseSeconds) * 1000)
                .where("id", .equal, message.id.rawValue).where("status", .equal, OutboxMessage.Status.pending.rawValue)
                .where(group: { $0.where("locked_until", .is, SQLLiteral.null).orWhere("locked_until", .lessThan, nowMS) })
                .returning("id").all()
            if !rows.isEmpty { taken.append(message) }
        }
        return taken
    }

    func record(_ attempt: DeliveryAttempt, updated: OutboxMessage) async throws {
        try await db.insert(into: "delivery_attempts").columns("message_id", "number", "at", "http_status", "error", "duration_ms").values(
            SQLBind(attempt.messageID.rawValue), SQLBind(attempt.number), SQLBind(Timestamp.from(attempt.at)), SQLBind(attempt.httpStatus),
            SQLBind(attempt.error), SQLBind(attempt.durationMS)
        ).run()
        try await db.update("webhook_outbox").set("status", to: updated.status.rawValue).set("attempts", to: updated.attempts)
            .set("next_attempt_at", to: Timestamp.from(updated.nextAttemptAt)).set("last_http_status", to: updated.lastHTTPStatus)
            .set("last_error", to: updated.lastError).set("delivered_at", to: updated.deliveredAt.map(Timestamp.from))
            .set("locked_until", to: Int64?.none).where("id", .equal, updated.id.rawValue).run()
    }

    func list(scope: AccessScope, limit: Int) async throws -> [(OutboxMessage, [DeliveryAttempt])] {
        let messages = try await select().scoped(scope).orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all()
            .map(Self.decode)
        guard !messages.isEmpty else { return [] }
        let attempts = try await db.select().columns("message_id", "number", "at", "http_status", "error", "duration_ms")
            .from("delivery_attempts").where("message_id", .in, messages.map(\.id.rawValue)).orderBy("number").all()
            .map { row in
                DeliveryAttempt(
                    messageID: OutboxMessageID(try row.string("message_id")), number: Int(try row.int64("number")),
                    at: Timestamp.date(try row.int64("at")), httpStatus: try row.optionalInt64("http_status").map(Int.init),
                    error: try row.optionalString("error"), durationMS: Int(try row.int64("duration_ms")))
            }
        let byMessage = Dictionary(grouping: attempts, by: \.messageID)
        return messages.map { ($0, byMessage[$0.id] ?? []) }
    }

    private func select() -> SQLSelectBuilder { db.select().columns(Self.columns.map { SQLColumn($0) }).from("webhook_outbox") }

    static func decode(_ row: any SQLRow) throws -> OutboxMessage {
        guard let kind = OutboxMessage.Kind(rawValue: try row.string("kind")),
              let status = OutboxMessage.Status(rawValue: try row.string("status"))
        else { throw DatabaseError(.corruptRow, "webhook_outbox row has an unknown kind or status") }
        return OutboxMessage(
            id: OutboxMessageID(try row.string("id")), kind: kind,
            organizationID: try row.optionalString("organization_id").map { OrganizationID($0) }, body: try row.string("body"),
            subject: try row.string("subject"), webhookID: try row.optionalString("webhook_id").map { WebhookID($0) }, status: status, attempts: Int(try row.int64("attempts")),
            nextAttemptAt: Timestamp.date(try row.int64("next_attempt_at")),
            lastHTTPStatus: try row.optionalInt64("last_http_status").map(Int.init), lastError: try row.optionalString("last_error"),
            createdAt: Timestamp.date(try row.int64("created_at")), deliveredAt: try row.optionalInt64("delivered_at").map(Timestamp.date))
    }
}
