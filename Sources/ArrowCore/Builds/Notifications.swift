import Foundation

public enum UserNotificationTag {}
public typealias UserNotificationID = Identifier<UserNotificationTag>
public enum WebhookTag {}
public typealias WebhookID = Identifier<WebhookTag>

/// The build events organizations may subscribe webhooks to, and that in-app notifications report.
public enum BuildEvent: String, Sendable, Codable, CaseIterable {
    case succeeded = "build.succeeded"
    case failed = "build.failed"
    case canceled = "build.canceled"
    /// A build template's run ended: promoted, unchanged, not promoted (the verification gate) or failed.
    case templateSettled = "template.settled"

    public init?(_ status: BuildTaskStatus) {
        switch status {
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .canceled: self = .canceled
        case .queued, .running: return nil
        }
    }
}

/// An in-app notification for one user (`GET /api/notifications`).
public struct UserNotification: Sendable, Equatable {
    public var id: UserNotificationID
    public var userID: UserID
    public var organizationID: OrganizationID?
    public var event: BuildEvent
    public var title: String
    public var body: String
    public var taskID: BuildTaskID?
    public var createdAt: Date
    public var readAt: Date?

    public init(
        id: UserNotificationID = .generate(), userID: UserID, organizationID: OrganizationID?, event: BuildEvent, title: String,
        body: String, taskID: BuildTaskID?, createdAt: Date, readAt: Date? = nil
    ) {
        self.id = id
        self.userID = userID
        self.organizationID = organizationID
        self.event = event
        self.title = title
        self.body = body
        self.taskID = taskID
        self.createdAt = createdAt
        self.readAt = readAt
    }
}

public protocol NotificationRepository: Sendable {
    func add(_ notification: UserNotification) async throws
    /// The user's notifications, newest first.
    func list(user: UserID, unreadOnly: Bool, limit: Int) async throws -> [UserNotification]
    /// Marks the user's notification read; false when it is not theirs.
    func markRead(id: UserNotificationID, user: UserID, at: Date) async throws -> Bool
    /// Marks all the user's notifications read; returns how many changed.
    func markAllRead(user: UserID, at: Date) async throws -> Int
}

/// An organization's outgoing webhook for build events, signed with HMAC-SHA256 by its secret (stored sealed).
public struct OrganizationWebhook: Sendable, Equatable {
    public var id: WebhookID
    public var organizationID: OrganizationID
    public var url: String
    /// The signing secret, sealed by `SecretBox`.
    public var sealedSecret: String
    public var events: Set<BuildEvent>
    public var createdAt: Date
    public var createdBy: UserID?

    public init(
        id: WebhookID = .generate(), organizationID: OrganizationID, url: String, sealedSecret: String, events: Set<BuildEvent>,
        createdAt: Date, createdBy: UserID?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.url = url
        self.sealedSecret = sealedSecret
        self.events = events
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

public protocol WebhookRepository: Sendable {
    func create(_ webhook: OrganizationWebhook) async throws
    /// A live (not deleted) webhook within `scope`.
    func find(id: WebhookID, scope: AccessScope) async throws -> OrganizationWebhook?
    func list(organization: OrganizationID) async throws -> [OrganizationWebhook]
    /// Deletes it; messages already in the outbox for it are then skipped. False when it is not within `scope`.
    func delete(id: WebhookID, scope: AccessScope, at: Date) async throws -> Bool
}
