import Hummingbird
import NIOCore
import ServiceLifecycle

/// A `text/event-stream` response whose events `produce` writes. The producer is cancelled when the client goes away
/// and when the server shuts down gracefully: a browser tab left open on the build monitor must not hold a stopping
/// server for the stream's lifetime.
enum ServerSentEvents {
    typealias Events = AsyncThrowingStream<ByteBuffer, any Error>

    static func response(_ produce: @escaping @Sendable (Events.Continuation) async throws -> Void) -> Response {
        let stream = Events { continuation in
            let worker = Task {
                do {
                    try await produce(continuation)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in worker.cancel() }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                        body: ResponseBody(asyncSequence: stream.cancelOnGracefulShutdown()))
    }
}
