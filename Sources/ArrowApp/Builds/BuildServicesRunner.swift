import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowNetwork
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// Returns tasks whose builder went silent to the queue (or fails them after the retry limit), every `interval`.
/// Any number of API nodes may run it: each move is a compare-and-set, so two sweepers never requeue a task twice.
struct LeaseSweeper: Service {
    let queue: BuildQueue
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (requeued, failed) = try await queue.sweepExpiredLeases()
                if requeued + failed > 0 {
                    logger.notice("expired build leases", metadata: ["requeued": "\(requeued)", "failed": "\(failed)"])
                }
                BuildMetrics.leaseExpiries(requeued: requeued, failed: failed)
                BuildMetrics.queue(try await queue.store.repositories.buildTasks.queueSummary())
                let newest = try await queue.store.repositories.builders.list(scope: .all).map(\.lastSeenAt).max()
                BuildMetrics.builders(lastSeenAgo: newest.map { Date().timeIntervalSince($0) })
            } catch {
                logger.warning("lease sweep failed; will retry", metadata: ["error": "\(String(describing: type(of: error)))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// Delivers the outbox: at start-up (what a crash left undelivered), after every trigger, and every second for
/// retries that came due.
struct OutboxDispatchService: Service {
    let store: any DataStore
    let settings: DispatchSettings
    let box: SecretBox
    let webhookAddresses: OutboundAddressPolicy
    let wakeups: TaskWakeups
    let logger: Logger

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPDispatchTransport.configuration)
        defer { Task { try? await client.shutdown() } }
        let dispatcher = OutboxDispatcher(
            store: store, transport: HTTPDispatchTransport(client: client), settings: settings, box: box,
            webhookAddresses: webhookAddresses, observe: BuildMetrics.observe)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let generation = wakeups.generation
            do {
                while try await dispatcher.deliverDue() > 0 {}
            } catch {
                logger.warning("dispatch failed; will retry", metadata: ["error": "\(String(describing: type(of: error)))"])
            }
            await cancelWhenGracefulShutdown { await wakeups.wait(after: generation, upTo: 1) }
        }
    }
}

/// PostgreSQL only: hears triggers made on other API nodes (`NOTIFY`) and wakes this node's long-polling claimers.
struct TaskNotificationService: Service {
    let listener: NotificationListener
    let wakeups: TaskWakeups

    func run() async throws {
        await cancelWhenGracefulShutdown { [listener, wakeups] in
            await listener.run(onNotify: { wakeups.signal() })
        }
    }
}

/// Writes finished tasks' logs to object storage (the spec's `build-logs/…` and `logs/…` paths), every few seconds.
struct LogArchiver: Service {
    let logs: BuildLogs
    var interval: Duration = .seconds(5)
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                while try await logs.archiveFinished() > 0 {}
            } catch {
                logger.warning("archiving build logs failed; will retry", metadata: ["error": "\(String(describing: type(of: error)))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// Fires build templates (schedules, new base versions) and settles their runs: once at start-up, so a slot missed
/// while the server was down fires then (once), and every `interval` after. Any number of API nodes may run it.
struct TemplateSchedulerService: Service {
    let scheduler: TemplateScheduler
    var interval: Duration = .seconds(15)
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let tick = try await scheduler.tick(at: Date())
                for run in tick.fired {
                    logger.notice("template fired", metadata: ["template": "\(run.templateID)", "trigger": "\(run.trigger.rawValue)", "run": "\(run.id)"])
                }
                for run in tick.settled {
                    logger.notice("template run settled", metadata: ["template": "\(run.templateID)", "status": "\(run.status.rawValue)", "run": "\(run.id)"])
                }
            } catch {
                logger.warning("template scheduling failed; will retry", metadata: ["error": "\(String(describing: type(of: error)))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
