import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import Hummingbird
import NIOCore

/// `GET /api/vm-build/events`: the organization's tasks as Server-Sent Events, for the build monitor. First one `task`
/// event per task (the newest 100), then `ready`, then a `task` event whenever one of them changes (status, phase,
/// progress, …) or a new one appears. `?once=true` ends the stream after `ready`.
struct BuildEventsController {
    let builds: BuildServices
    var pollInterval: Duration = .milliseconds(400)
    /// A stream ends after this long; the browser's `EventSource` reconnects by itself two seconds later, and the
    /// session is checked again then: a revoked session stops receiving within this time.
    var maxStream: Duration = .seconds(600)

    func register(on routes: APIRoutes) {
        routes.get("/api/vm-build/events", .permission(.buildRead), use: events)
    }

    @Sendable func events(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let once = try QueryParameters.bool(request.uri.queryParameters["once"].map(String.init), name: "once") ?? false
        let (queue, poll, limit) = (builds.queue, pollInterval, maxStream)
        // The first listing runs before the response starts, so a refusal is still an ordinary error response.
        let first = try await queue.list(BuildTaskFilter(), principal: principal, limit: 100)
        return ServerSentEvents.response { continuation in
            let encoder = APIJSON.encoder()
            var sent: [String: Data] = [:]
            func changes(_ tasks: [BuildTask]) throws -> String {
                var text = ""
                // Oldest first, so a page that prepends rows ends with the newest on top.
                for task in tasks.reversed() {
                    let json = try encoder.encode(BuildTaskRecord(task))
                    guard sent[task.id.rawValue] != json else { continue }
                    sent[task.id.rawValue] = json
                    text += "event: task\ndata: \(String(decoding: json, as: UTF8.self))\n\n"
                }
                return text
            }
            continuation.yield(ByteBuffer(string: "retry: 2000\n\n" + (try changes(first)) + "event: ready\ndata: {}\n\n"))
            guard !once else { return }
            let clock = ContinuousClock()
            let deadline = clock.now + limit
            var lastWrite = clock.now
            while !Task.isCancelled, clock.now < deadline {
                try await Task.sleep(for: poll)
                var text = try changes(try await queue.list(BuildTaskFilter(), principal: principal, limit: 100))
                if text.isEmpty, clock.now - lastWrite > .seconds(10) { text = ": waiting\n\n" }
                guard !text.isEmpty else { continue }
                continuation.yield(ByteBuffer(string: text))
                lastWrite = clock.now
            }
        }
    }
}
