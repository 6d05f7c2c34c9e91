import ArrowRegistry
import Logging
import ServiceLifecycle

/// Removes uploads that a crash or a dropped connection left `uploading` (row and object), and aborts multipart
/// sessions past their expiry, at start-up and then every interval. Six hours is well past the longest single upload
/// the limits allow at any usable speed.
struct UploadJanitor: Service {
    let registry: ImageRegistry
    var interval: Duration = .seconds(600)
    var maxAge: Double = 6 * 3600
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await registry.sweepAbandonedUploads(maxAge: maxAge)
                try await registry.expireSessions()
            } catch {
                logger.warning("upload clean-up failed; will retry", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
