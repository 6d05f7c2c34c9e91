import ArrowStorage
import Logging
import ServiceLifecycle

/// Periodically removes what the local store accumulates: writes a crash interrupted (left in staging) and
/// multipart uploads abandoned by their clients. (On B2/S3, a bucket lifecycle rule does this for unfinished
/// multipart uploads.)
struct StorageJanitor: Service {
    let store: LocalBlobStore
    let interval: Duration
    let maxAge: Double
    let logger: Logger

    func run() async throws {
        // Sweep at start-up, then on every interval, until shutdown.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let removed = (try? await store.cleanUp(olderThan: maxAge)) ?? 0
            if removed > 0 { logger.info("storage clean-up", metadata: ["storage.removed": .stringConvertible(removed)]) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
