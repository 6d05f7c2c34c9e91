import ArrowCore
import ArrowRegistry
import ArrowStorage
import Foundation
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Keeps this server process registered as alive (a heartbeat row) and cleans up after dead ones, at start-up and
/// then every `interval`: uploads a killed process left `uploading` (row and object) and its staging files, uploads
/// older than `maxAge` whatever their owner, and multipart sessions past their expiry. On graceful shutdown the
/// process removes its own row.
struct UploadJanitor: Service {
    let registry: ImageRegistry
    let instance: ServerInstance
    let localStore: LocalBlobStore?
    var interval: Duration = .seconds(30)
    /// A process whose heartbeat is older than this is dead (three missed beats).
    var staleAfter: TimeInterval = 90
    var maxAge: Double = 6 * 3600
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await sweep()
            } catch {
                logger.warning("upload clean-up failed; will retry", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        try? await registry.store.repositories.serverInstances.remove(id: instance.id)
    }

    func sweep() async throws {
        var me = instance
        me.heartbeatAt = registry.clock.now()
        let instances = registry.store.repositories.serverInstances
        try await instances.heartbeat(me)
        let known = try await instances.all()
        let live = InstanceLiveness.alive(
            known, now: me.heartbeatAt, staleAfter: staleAfter, host: instance.host,
            processExists: { pid in kill(pid_t(pid), 0) == 0 || errno == EPERM })
        try await registry.sweepOrphanedUploads(live: live)
        if let localStore {
            let removed = localStore.cleanUpStaging(keeping: live)
            if removed > 0 { logger.notice("removed staging files a dead server process left", metadata: ["files": "\(removed)"]) }
        }
        for dead in known where !live.contains(dead.id) && dead.id != instance.id {
            try await instances.remove(id: dead.id)
        }
        try await registry.sweepAbandonedUploads(maxAge: maxAge)
        try await registry.expireSessions()
    }
}
