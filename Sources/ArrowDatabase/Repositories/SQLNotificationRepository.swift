import ArrowCore
import Foundation
import SQLKit

struct SQLNotificationRepository: NotificationRepository {
    let db: any SQLDatabase

    static let columns = ["id", "user_id", "organization_id", "event", "title", "body", "task_id", "created_at", "read_at"]

    func add(_ notification: UserNotification) async throws {
        try await db.insert(into: "notifications").columns(Self.columns).values(
            SQLBind(notification.id.rawValue), SQLBind(notification.userID.rawValue), SQLBind(notification.organizationID?.rawValue),
            SQLBind(notification.event.rawValue), SQLBind(notification.title), SQLBind(notification.body),
            SQLBind(notification.taskID?.rawValue), SQLBind(Timestamp.from(notification.createdAt)),
            SQLBind(notification.readAt.map(Timestamp.from))
        ).run()
    }

    func list(user: UserID, unreadOnly: Bool, limit: Int) async throws -> [UserNotification] {
        var query = db.select().columns(Self.columns.map { SQLColumn($0) }).from("notifications").where("user_id", .equal, user.rawValue)
        if unreadOnly { query = query.where("read_at", .is, SQLLiteral.null) }
        return try await query.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all().map { row in
            guard let event = BuildEvent(rawValue: try row.string("event")) else {
                throw DatabaseError(.corruptRow, "notifications row has an unknown event")
            }
            return UserNotification(
                id: UserNotificationID(try row.string("id")), userID: UserID(try row.string("user_id")),
                organizationID: try row.optionalString("organization_id").map { OrganizationID($0) }, event: event,
                title: try row.string("title"), body: try row.string("body"), taskID: try row.optionalString("task_id").map { BuildTaskID($0) },
                createdAt: Timestamp.date(try row.int64("created_at")), readAt: try row.optionalInt64("read_at").map(Timestamp.date))
        }
    }

    func markRead(id: UserNotificationID, user: UserID, at: Date) async throws -> Bool {
        // Already read counts as found: marking twice is not an error.
        guard try await db.select().column("id").from("notifications").where("id", .equal, id.rawValue)
            .where("user_id", .equal, user.rawValue).first() != nil else { return false }
        try await db.update("notifications").set("read_at", to: Timestamp.from(at)).where("id", .equal, id.rawValue)
            .where("user_id", .equal, user.rawValue).where("read_at", .is, SQLLiteral.null).run()
        return true
    }

    func markAllRead(user: UserID, at: Date) async throws -> Int {
        try await db.update("notifications").set("read_at", to: Timestamp.from(at)).where("user_id", .equal, user.rawValue)
            .where("read_at", .is, SQLLiteral.null).returning("id").all().count
    }
}
