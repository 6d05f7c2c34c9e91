import ArrowCore
import ArrowProtocol
import Foundation

/// A template run as the API and webhooks show it.
public struct TemplateRunRecord: Codable, Sendable, Equatable {
    public var id: String
    public var templateId: String
    public var revision: Int
    public var trigger: String
    public var triggerKey: String
    public var taskId: String?
    public var status: String
    public var message: String?
    public var artifactImageId: String?
    public var previousArtifactId: String?
    public var diff: ContentsDiff?
    public var createdAt: Date
    public var finishedAt: Date?

    public init(_ run: TemplateRun) {
        id = run.id.rawValue
        templateId = run.templateID.rawValue
        revision = run.revision
        trigger = run.trigger.rawValue
        triggerKey = run.triggerKey
        taskId = run.taskID?.rawValue
        status = run.status.rawValue
        message = run.message
        artifactImageId = run.artifactImageID?.rawValue
        previousArtifactId = run.previousArtifactID?.rawValue
        diff = run.diff
        createdAt = run.createdAt
        finishedAt = run.finishedAt
    }
}

/// The body of a `template.settled` webhook: the template (as it was when the run was made) and the run's outcome,
/// with the contents diff a promoted run brought.
public struct TemplateEventPayload: Codable, Sendable, Equatable {
    public struct Template: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    public var event: String
    public var occurredAt: Date
    public var organizationId: String
    public var template: Template
    public var run: TemplateRunRecord
}

/// What a template run's end tells people, in the transaction that records it: one outbox message per organization
/// webhook subscribed to `template.settled` (whatever the outcome), and — when the run needs attention (a failed
/// build, a build that could not start, an artifact held back by the verification gate) — an in-app notification to
/// whoever made the template. A failed build also reaches `build.failed` webhooks through the task (``BuildEvents``).
enum TemplateEvents {
    static func settled(_ run: TemplateRun, of template: BuildTemplate, alert title: String?, _ repos: Repositories, at: Date) async throws {
        if let title, let user = template.createdBy {
            try await repos.notifications.add(UserNotification(
                userID: user, organizationID: template.organizationID, event: .templateSettled, title: title, body: run.message ?? "",
                taskID: run.taskID, createdAt: at))
        }
        let hooks = try await repos.webhooks.list(organization: template.organizationID).filter { $0.events.contains(.templateSettled) }
        guard !hooks.isEmpty else { return }
        let payload = TemplateEventPayload(
            event: BuildEvent.templateSettled.rawValue, occurredAt: at, organizationId: template.organizationID.rawValue,
            template: .init(id: template.id.rawValue, name: template.name), run: TemplateRunRecord(run))
        let text = String(decoding: try WireJSON.encoder().encode(payload), as: UTF8.self)
        for hook in hooks {
            try await repos.outbox.add(OutboxMessage(
                kind: .organizationWebhook, organizationID: template.organizationID, body: text,
                subject: "\(BuildEvent.templateSettled.rawValue) run:\(run.id.rawValue)", webhookID: hook.id, nextAttemptAt: at, createdAt: at))
        }
    }
}
