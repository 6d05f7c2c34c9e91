import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A loopback stand-in for GitHub's `POST /repos/{owner}/{repo}/dispatches`, started by a test. It checks every
/// request against GitHub's published rules (method, path, headers, `event_type` ≤ 100 characters, ≤ 10 top-level
/// `client_payload` properties, body ≤ 65,535 bytes) and the spec's headers, records what it received and what was
/// wrong, and answers from a script (then 204).
public final class FakeGitHub: Sendable {
    public struct Delivery: Sendable {
        public var body: String
        public var headers: [String: String]
        /// The request's `Host` (HTTP/1.1) or `:authority`.
        public var authority: String?
        public var answered: Int
        public var at: Date
    }

    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]

        public init(_ status: Int, headers: [String: String] = [:]) {
            self.status = status
            self.headers = headers
        }
    }

    public let owner = "arrow-org"
    public let repo = "imaging"
    let expectedToken: String?
    private let state = Mutex<(script: [Answer], deliveries: [Delivery], violations: [String])>(([], [], []))
    private let task = Mutex<Task<Void, any Error>?>(nil)
    public let port: Int

    /// The dispatch URL to configure as `GITHUB_VM_IMAGING_WEBHOOK_URL`.
    public var url: String { "http://127.0.0.1:\(port)/repos/\(owner)/\(repo)/dispatches" }
    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }
    public var violations: [String] { state.withLock { $0.violations } }

    /// Starts on `port` (0: any free port) and returns once it listens.
    public static func start(token: String?, port: Int = 0, script: [Answer] = []) async throws -> FakeGitHub {
        let box = Mutex<FakeGitHub?>(nil)
        let router = Router()
        router.post("/repos/:owner/:repo/dispatches") { request, context -> Response in
            guard let fake = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return await fake.handle(request, context: context)
        }
        router.on("**", method: .get) { _, _ in Response(status: .notFound) }
        let (bound, running) = try await LoopbackServer.start(router, label: "fake-github", port: port)
        let fake = FakeGitHub(port: bound, token: token, script: script)
        box.withLock { $0 = fake }
        fake.task.withLock { $0 = running }
        return fake
    }

    private init(port: Int, token: String?, script: [Answer]) {
        self.port = port
        self.expectedToken = token
        state.withLock { $0.script = script }
    }

    public func stop() async {
        let running = task.withLock { task -> Task<Void, any Error>? in defer { task = nil }; return task }
        running?.cancel()
        _ = await running?.result
    }

    /// Waits up to `seconds` for `count` deliveries.
    public func waitFor(_ count: Int, seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if deliveries.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return deliveries.count >= count
    }

    func handle(_ request: Request, context: BasicRequestContext) async -> Response {
        var problems: [String] = []
        let path = request.uri.path
        if path != "/repos/\(owner)/\(repo)/dispatches" { problems.append("path \(path)") }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        func expect(_ name: String, _ value: String?) {
            if headers[name] != value { problems.append("header \(name) is \(headers[name] ?? "absent"), expected \(value ?? "absent")") }
        }
        expect("content-type", "application/json")
        expect("user-agent", "ARROW-VM-Imaging/1.0")
        expect("accept", "application/vnd.github+json")
        expect("x-github-api-version", "2022-11-28")
        expect("authorization", expectedToken.map { "token \($0)" })
        let buffer = (try? await request.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
        let body = String(buffer: buffer)
        if buffer.readableBytes > 65_535 { problems.append("body is \(buffer.readableBytes) bytes, over 65,535") }
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        if let object {
            if Set(object.keys).subtracting(["event_type", "client_payload"]).isEmpty == false { problems.append("unknown top-level keys \(object.keys.sorted())") }
            if let type = object["event_type"] as? String {
                if type.isEmpty || type.count > 100 { problems.append("event_type has \(type.count) characters") }
                if type != "vm_imaging_request" { problems.append("event_type \(type)") }
            } else { problems.append("event_type missing") }
            if let payload = object["client_payload"] as? [String: Any] {
                if payload.count > 10 { problems.append("client_payload has \(payload.count) top-level properties") }
                let spec: Set<String> = ["request_id", "device_type", "images", "organization", "client", "timestamp"]
                if Set(payload.keys) != spec { problems.append("client_payload keys \(payload.keys.sorted())") }
            } else { problems.append("client_payload missing or not an object") }
        } else {
            problems.append("body is not a JSON object")
        }
        let answer = state.withLock { state -> Answer in
            let answer = state.script.isEmpty ? Answer(204) : state.script.removeFirst()
            state.deliveries.append(Delivery(body: body, headers: headers, authority: request.head.authority, answered: answer.status, at: Date()))
            state.violations += problems
            return answer
        }
        var fields = HTTPFields()
        for (name, value) in answer.headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        return Response(status: .init(code: answer.status), headers: fields)
    }
}
