import ArrowCore
import Foundation

/// A user's in-app notifications: written when a build they asked to hear about ends (``BuildEvents``).
public struct Notifications: Sendable {
    let store: any DataStore
    let now: @Sendable () -> Date

    public init(store: any DataStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    public func list(principal: Principal, unreadOnly: Bool, limit: Int) async throws -> [UserNotification] {
        try principal.requireHuman()
        return try await store.repositories.notifications.list(user: principal.user.id, unreadOnly: unreadOnly, limit: limit)
    }

    /// Another user's notification is 404, like one that does not exist.
    public func markRead(_ id: String, principal: Principal) async throws {
        try principal.requireHuman()
        guard try await store.repositories.notifications.markRead(id: UserNotificationID(id), user: principal.user.id, at: now()) else {
            throw ArrowError.notFound("Notification")
        }
    }

    public func markAllRead(principal: Principal) async throws -> Int {
        try principal.requireHuman()
        return try await store.repositories.notifications.markAllRead(user: principal.user.id, at: now())
    }
}
