import Foundation
import Hummingbird
import Logging
import Synchronization

/// Serves a directory over HTTP on loopback (Hummingbird's file middleware): a local package repository or a
/// download for the builder's roles, which reach it from inside the image (the chroot shares the host's network).
public final class StaticFileServer: Sendable {
    public let port: Int
    private let task: Mutex<Task<Void, any Error>?>

    public var url: String { "http://127.0.0.1:\(port)" }

    public static func start(directory: String) async throws -> StaticFileServer {
        let router = Router()
        router.middlewares.add(FileMiddleware(directory, searchForIndexHtml: false))
        let (bound, running) = try await LoopbackServer.start(router, label: "static-files")
        return StaticFileServer(port: bound, task: running)
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = Mutex(task)
    }

    public func stop() async {
        let running = task.withLock { task -> Task<Void, any Error>? in defer { task = nil }; return task }
        running?.cancel()
        _ = await running?.result
    }
}
