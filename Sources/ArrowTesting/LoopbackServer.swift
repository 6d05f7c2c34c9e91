import Hummingbird
import Logging

/// Runs a test stand-in's router on loopback (port 0: any free one) and returns once it listens: the bound port and
/// the task to cancel to stop it.
enum LoopbackServer {
    static func start(_ router: Router<BasicRequestContext>, label: String, port: Int = 0) async -> (port: Int, task: Task<Void, any Error>) {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await app.runService(gracefulShutdownSignals: []) }
        var bound = 0
        for await value in stream { bound = value; break }
        return (bound, running)
    }
}
