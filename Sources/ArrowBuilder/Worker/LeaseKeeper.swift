import ArrowClient
import ArrowProtocol
import Foundation

/// Keeps a claimed task's lease alive while its build runs: a heartbeat every interval the server asked for. The
/// answer `cancel: true` (an admin canceled the task) or `409 stale_lease` (the lease expired and another attempt
/// has the task) stops the build: ``onStop`` cancels it.
actor LeaseKeeper {
    enum Stop: Equatable { case canceled, leaseLost }

    let api: any BuilderAPI
    let lease: APIClient.Lease
    let interval: Duration
    private(set) var stopped: Stop?
    private var loop: Task<Void, Never>?

    init(api: any BuilderAPI, lease: APIClient.Lease, interval: Duration) {
        self.api = api
        self.lease = lease
        self.interval = interval
    }

    func start(onStop: @escaping @Sendable (Stop) -> Void) {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: self?.interval ?? .seconds(30))
                guard let self, !Task.isCancelled else { return }
                if let stop = await self.beat() {
                    onStop(stop)
                    return
                }
            }
        }
    }

    func stop() {
        loop?.cancel()
        loop = nil
    }

    /// One heartbeat; the reason to stop, if the server gave one. Network errors are retried at the next beat (the
    /// lease outlives several missed ones).
    func beat() async -> Stop? {
        do {
            let reply = try await api.report(TaskStatusReport(taskId: lease.taskID, attempt: lease.attempt, leaseToken: lease.token, event: .heartbeat))
            if reply.cancel { stopped = .canceled }
        } catch let error as APIError where error.code == "stale_lease" || error.code.hasPrefix("task_") {
            stopped = .leaseLost
        } catch {
            return nil
        }
        return stopped
    }

    /// Reports the phase now running and the progress within it.
    func enter(_ phase: String, progress: Int) async throws {
        _ = try await report(TaskStatusReport(taskId: lease.taskID, attempt: lease.attempt, leaseToken: lease.token, event: .phase,
                                              phase: phase, progress: progress))
    }

    func report(_ report: TaskStatusReport) async throws -> TaskStatusReply {
        do {
            return try await api.report(report)
        } catch let error as APIError where error.code == "stale_lease" || error.code == "task_canceled" {
            stopped = error.code == "task_canceled" ? .canceled : .leaseLost
            throw error
        }
    }
}
