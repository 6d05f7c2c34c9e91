import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL

/// Runs a test stand-in's router on loopback (port 0: any free one) and returns once it listens: the bound port and
/// the task to cancel to stop it.
enum LoopbackServer {
    /// With `tls`, the stand-in speaks HTTPS (a Proxmox VE node's self-signed certificate).
    static func start(_ router: Router<BasicRequestContext>, label: String, port: Int = 0, tls: TLSConfiguration? = nil) async throws
        -> (port: Int, task: Task<Void, any Error>) {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await app.runService(gracefulShutdownSignals: []) }
        var bound = 0
        for await value in stream { bound = value; break }
        return (bound, running)
    }
}
