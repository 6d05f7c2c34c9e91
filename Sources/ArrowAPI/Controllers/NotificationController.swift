import ArrowBuilds
import ArrowCore
import Foundation
import HTTPTypes
import Hummingbird

/// A user's in-app notifications, and organizations' outgoing webhooks.
struct NotificationController {
    let notifications: Notifications
    let webhooks: Webhooks

    func register(on routes: APIRoutes) {
        routes.get("/api/notifications", .authenticated, use: list)
        routes.post("/api/notifications/read-all", .authenticated, use: readAll)
        routes.post("/api/notifications/:notification_id/read", .authenticated, use: read)
        routes.get("/api/organizations/:org_id/webhooks", .permission(.orgAdmin), use: listWebhooks)
        routes.post("/api/organizations/:org_id/webhooks", .permission(.orgAdmin), use: createWebhook)
        routes.delete("/api/organizations/:org_id/webhooks/:webhook_id", .permission(.orgAdmin), use: deleteWebhook)
    }

    /// `?unread=true` for unread ones only; newest first.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse<NotificationDTO> {
        let query = request.uri.queryParameters
        let unread = try QueryParameters.bool(query["unread"].map(String.init), name: "unread") ?? false
        let limit = try QueryParameters.integer(query["limit"].map(String.init), name: "limit", in: 1...500) ?? 100
        return ListResponse(items: try await notifications.list(principal: try context.requirePrincipal(), unreadOnly: unread, limit: limit)
            .map(NotificationDTO.init))
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await notifications.markRead(try context.parameters.require("notification_id"), principal: try context.requirePrincipal())
        return .noContent
    }

    @Sendable func readAll(_ request: Request, context: AppRequestContext) async throws -> MarkedRead {
        MarkedRead(marked: try await notifications.markAllRead(principal: try context.requirePrincipal()))
    }

    @Sendable func listWebhooks(_ request: Request, context: AppRequestContext) async throws -> ListResponse<WebhookDTO> {
        ListResponse(items: try await webhooks.list(organization: try context.parameters.require("org_id"), principal: try context.requirePrincipal())
            .map { WebhookDTO($0, secret: nil) })
    }

    /// 201 with the signing secret, shown this once.
    @Sendable func createWebhook(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<WebhookDTO> {
        let body = try await JSONRequestBody.decode(CreateWebhook.self, from: request)
        let (hook, secret) = try await webhooks.create(
            organization: try context.parameters.require("org_id"), url: body.url, events: body.events ?? [], principal: try context.requirePrincipal())
        return EditedResponse(status: .created, response: WebhookDTO(hook, secret: secret))
    }

    @Sendable func deleteWebhook(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await webhooks.delete(organization: try context.parameters.require("org_id"), webhook: try context.parameters.require("webhook_id"),
                                  principal: try context.requirePrincipal())
        return .noContent
    }

    struct CreateWebhook: Decodable {
        var url: String
        var events: [String]?
    }

    struct MarkedRead: ResponseCodable { var marked: Int }
}

struct NotificationDTO: ResponseCodable {
    var id: String
    var event: String
    var title: String
    var body: String
    var taskId: String?
    var organizationId: String?
    var createdAt: Date
    var readAt: Date?

    init(_ notification: UserNotification) {
        id = notification.id.rawValue
        event = notification.event.rawValue
        title = notification.title
        body = notification.body
        taskId = notification.taskID?.rawValue
        organizationId = notification.organizationID?.rawValue
        createdAt = notification.createdAt
        readAt = notification.readAt
    }
}

struct WebhookDTO: ResponseCodable {
    var id: String
    var organizationId: String
    var url: String
    var events: [String]
    var createdAt: Date
    /// Only in the answer to the create request.
    var secret: String?

    init(_ hook: OrganizationWebhook, secret: String?) {
        id = hook.id.rawValue
        organizationId = hook.organizationID.rawValue
        url = hook.url
        events = hook.events.map(\.rawValue).sorted()
        createdAt = hook.createdAt
        self.secret = secret
    }
}
