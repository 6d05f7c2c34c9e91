import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension TaskLogReceipt: ResponseEncodable {}

/// Build logs: builders append, people read (`/api/build-logs/proxy`), whole, by range, or following new lines.
struct BuildLogController {
    let logs: BuildLogs
    /// How often a follower looks for new lines, and how long it may follow at most.
    var pollInterval: Duration = .milliseconds(200)
    var maxFollow: Duration = .seconds(6 * 3600)

    func register(on routes: APIRoutes) {
        routes.post("/api/vm-build/task-logs", .builder, use: append)
        routes.get("/api/build-logs/proxy", .permission(.logsRead), use: proxy)
    }

    @Sendable func append(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TaskLogReceipt> {
        let upload = try await JSONRequestBody.decode(TaskLogUpload.self, from: request)
        let stored = try await logs.append(upload, principal: try context.requirePrincipal())
        return EditedResponse(status: stored ? .created : .ok, response: TaskLogReceipt(stored: stored))
    }

    /// `?task={id}&file={name}`: the log as text (`Range` honoured); `&follow=true`: Server-Sent Events with each new
    /// line as it arrives, until the task ends.
    @Sendable func proxy(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let taskID = query["task"].map(String.init), !taskID.isEmpty else {
            throw ArrowError(.invalidInput, reason: "invalid_filter", "task is required")
        }
        let file = try BuildLogs.file(query["file"].map(String.init) ?? "")
        let follow = try QueryParameters.bool(query["follow"].map(String.init), name: "follow") ?? false
        let task = try await logs.task(taskID, principal: try context.requirePrincipal())
        if follow { return self.follow(task, file) }
        let range = try request.headers[.range].map(SignedStorageController.parseRange)
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8", .acceptRanges: "bytes", .cacheControl: "no-store"]
        if let key = try await logs.archived(task, file) {
            let (info, body) = try await logs.get(key, range: range)
            let status = try Self.describe(range, size: info.size, into: &headers)
            return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: ByteBufferChunks(body: body)))
        }
        // Still running (or not archived yet): the chunks the builder sent so far.
        let bytes = Array(try await logs.chunks(task, file, after: nil).map(\.content).joined().utf8)
        let status = try Self.describe(range, size: Int64(bytes.count), into: &headers)
        var slice = bytes[...]
        if let bounds = try range?.resolved(size: Int64(bytes.count)) { slice = bytes[Int(bounds.lowerBound)...Int(bounds.upperBound)] }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: slice)))
    }

    static func describe(_ range: ByteRange?, size: Int64, into headers: inout HTTPFields) throws -> HTTPResponse.Status {
        guard let range else {
            headers[.contentLength] = String(size)
            return .ok
        }
        let bounds = try range.resolved(size: size)
        headers[.contentRange] = "bytes \(bounds.lowerBound)-\(bounds.upperBound)/\(size)"
        headers[.contentLength] = String(bounds.count)
        return .partialContent
    }

    /// Server-Sent Events: `data:` per line (existing lines first), a comment every 10 s so proxies and the idle
    /// timeout keep the connection, and `event: end` with the task's status once it has finished and nothing is left.
    func follow(_ task: BuildTask, _ file: StorageLayout.BuildLog) -> Response {
        let (logs, poll, limit) = (self.logs, pollInterval, maxFollow)
        return ServerSentEvents.response { continuation in
            let clock = ContinuousClock()
            let deadline = clock.now + limit
            var position: TaskLogChunk.Position?
            var partial = ""
            var lastWrite = clock.now
            while !Task.isCancelled, clock.now < deadline {
                let status = try await logs.status(task)
                let chunks = try await logs.chunks(task, file, after: position)
                if let last = chunks.last { position = last.position }
                var text = partial + chunks.map(\.content).joined()
                partial = ""
                if let newline = text.lastIndex(of: "\n") {
                    partial = String(text[text.index(after: newline)...])
                    text = String(text[...newline])
                } else {
                    partial = text
                    text = ""
                }
                var event = ""
                for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() { event += "data: \(line)\n\n" }
                let finished = chunks.isEmpty && !(status?.isOpen ?? false)
                if finished {
                    if !partial.isEmpty { event += "data: \(partial)\n\n" }
                    event += "event: end\ndata: \(status?.rawValue ?? "gone")\n\n"
                } else if event.isEmpty, clock.now - lastWrite > .seconds(10) {
                    event = ": waiting\n\n"
                }
                if !event.isEmpty {
                    continuation.yield(ByteBuffer(string: event))
                    lastWrite = clock.now
                }
                if finished { break }
                try await Task.sleep(for: poll)
            }
        }
    }
}
