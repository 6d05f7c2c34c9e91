import ArrowCore
import ArrowProtocol
import Foundation

/// What a task's move writes besides the task itself, in the same transaction: the phase history, and when the
/// task ends, the requester's in-app notification and one outbox message per subscribed organization webhook (so a
/// crash never loses one, and the dispatcher delivers them like any other).
enum BuildEvents {
    /// Returns the phase the move ended and how long it ran, for the metrics.
    @discardableResult
    static func moved(from before: BuildTaskState, to task: BuildTask, _ repos: Repositories, at: Date) async throws -> (BuildPhase, TimeInterval)? {
        var ended: (BuildPhase, TimeInterval)?
        if before.status == .running, task.status != .running || task.state.phase != before.phase || task.state.attempt != before.attempt {
            let started = try await repos.buildHistory.recordPhaseChange(
                task: task.id, attempt: before.attempt, from: before.phase, fromStartedAt: task.startedAt,
                to: task.status == .running && task.state.attempt == before.attempt ? task.state.phase : nil, at: at)
            if let phase = before.phase, let started { ended = (phase, max(0, at.timeIntervalSince(started))) }
        }
        if before.status.isOpen, !task.status.isOpen { try await finished(task, repos, at: at) }
        return ended
    }

    static func finished(_ task: BuildTask, _ repos: Repositories, at: Date) async throws {
        guard let event = BuildEvent(task.status) else { return }
        if task.notifyOnComplete, let user = task.createdBy {
            try await repos.notifications.add(UserNotification(
                userID: user, organizationID: task.organizationID, event: event, title: title(task, event), body: body(task, event),
                taskID: task.id, createdAt: at))
        }
        let hooks = try await repos.webhooks.list(organization: task.organizationID).filter { $0.events.contains(event) }
        guard !hooks.isEmpty else { return }
        let payload = BuildEventPayload(event: event.rawValue, occurredAt: at, organizationId: task.organizationID.rawValue,
                                        task: BuildTaskRecord(task))
        let text = String(decoding: try WireJSON.encoder().encode(payload), as: UTF8.self)
        for hook in hooks {
            try await repos.outbox.add(OutboxMessage(
                kind: .organizationWebhook, organizationID: task.organizationID, body: text, subject: "\(event.rawValue) task:\(task.id.rawValue)",
                webhookID: hook.id, nextAttemptAt: at, createdAt: at))
        }
    }

    static func title(_ task: BuildTask, _ event: BuildEvent) -> String {
        let name = task.vmName ?? "Build \(task.id.rawValue.prefix(8))"
        switch event {
        case .succeeded: return "\(name) is built"
        case .failed: return "\(name) failed"
        case .canceled: return "\(name) was canceled"
        case .templateSettled: return "\(name) ended"
        }
    }

    static func body(_ task: BuildTask, _ event: BuildEvent) -> String {
        switch event {
        case .succeeded:
            return "Task \(task.id.rawValue) succeeded" + (task.state.artifactImageID.map { "; the image is \($0.rawValue)" } ?? "") + "."
        case .failed:
            let code = task.state.errorCode?.rawValue ?? "unknown"
            let phase = task.state.phase.map { " in \($0.rawValue)" } ?? ""
            return "Task \(task.id.rawValue) failed\(phase) with \(code). See its logs, then retry."
        case .canceled:
            return "Task \(task.id.rawValue) was canceled."
        case .templateSettled:
            return "Task \(task.id.rawValue) ended."
        }
    }
}
