import ArrowProtocol
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A loopback stand-in for the NetBird management REST API (external-apis.md §2), started by a test. Every request
/// is checked against the published OpenAPI document (the operations enrollment uses, vendored beside this file as
/// `Resources/netbird-api-subset.json`: method, path, query parameters, the body's required fields, types and
/// bounds) and against the server's own rules (a 40-character `Token nbp_…` PAT, key types, one-off usage limit,
/// group ids that exist and are not "All"); what is wrong is recorded and answered as NetBird would,
/// `{"message", "code"}`. `POST /test/join` is how the stand-in NetBird client in a test VM uses a setup key (the
/// real one speaks gRPC to the management service): it registers a peer, as the real service does.
public final class FakeNetBird: Sendable {
    public struct Key: Sendable {
        public var id: String
        public var key: String
        public var name: String
        public var type: String
        public var groups: [String]
        public var expiresIn: Int
        public var revoked: Bool
        public var usedTimes: Int
    }

    public struct Peer: Sendable {
        public var id: String
        public var hostname: String
        public var ip: String
        public var createdAt: Date
        public var groups: [String]
    }

    struct State {
        var groups: [String: String] = [:]  // id → name
        var keys: [Key] = []
        var peers: [Peer] = []
        var requests: [String] = []
        var violations: [String] = []
    }

    public let port: Int
    let token: String
    /// The vendored operations (`Resources/netbird-api-subset.json`), parsed per request (a few KB).
    let schemaDocument: Data
    var schema: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: schemaDocument)) as? [String: Any])?["operations"] as? [String: Any] ?? [:]
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, any Error>?>(nil)

    public var url: String { "http://127.0.0.1:\(port)" }
    public var keys: [Key] { state.withLock { $0.keys } }
    public var peers: [Peer] { state.withLock { $0.peers } }
    /// "METHOD /path?query" of every API request, in order.
    public var requests: [String] { state.withLock { $0.requests } }
    public var violations: [String] { state.withLock { $0.violations } }
    public func groupID(_ name: String) -> String? { state.withLock { $0.groups.first { $0.value == name }?.key } }

    /// Starts on a free loopback port with `groups` (names; each gets an id) and the PAT it accepts.
    public static func start(token: String, groups: [String]) async throws -> FakeNetBird {
        let schemaFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/netbird-api-subset.json")
        let document = try Data(contentsOf: schemaFile)
        let box = Mutex<FakeNetBird?>(nil)
        let router = Router()
        router.on("**", method: .get) { request, _ in await box.withLock { $0 }!.handle(request) }
        router.on("**", method: .post) { request, _ in await box.withLock { $0 }!.handle(request) }
        router.on("**", method: .put) { request, _ in await box.withLock { $0 }!.handle(request) }
        router.on("**", method: .delete) { request, _ in await box.withLock { $0 }!.handle(request) }
        let (bound, running) = try await LoopbackServer.start(router, label: "fake-netbird")
        let fake = FakeNetBird(port: bound, token: token, schemaDocument: document)
        fake.state.withLock { state in for name in groups { state.groups["grp-" + UUID().uuidString.prefix(8).lowercased()] = name } }
        box.withLock { $0 = fake }
        fake.task.withLock { $0 = running }
        return fake
    }

    private init(port: Int, token: String, schemaDocument: Data) {
        self.port = port
        self.token = token
        self.schemaDocument = schemaDocument
    }

    public func stop() async {
        let running = task.withLock { task -> Task<Void, any Error>? in defer { task = nil }; return task }
        running?.cancel()
        _ = await running?.result
    }

    func handle(_ request: Request) async -> Response {
        let body = (try? await request.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
        let object = body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: body)
        let path = request.uri.path
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 })
        if path == "/test/join" { return join(object as? [String: Any] ?? [:]) }
        let method = request.method.rawValue
        state.withLock { $0.requests.append("\(method) \(path)" + (request.uri.query.map { "?" + $0 } ?? "")) }

        // The PAT: "Token nbp_…", 40 characters, split on one space into exactly two parts.
        let authorization = request.headers[.authorization] ?? ""
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].lowercased() == "token" else { return error(401, "no valid authentication provided", record: "no Token authorization") }
        guard parts[1] == token, token.hasPrefix("nbp_"), token.count == 40 else { return error(401, "token invalid", record: "wrong token") }

        guard let (template, parameters) = operation(method, path), let spec = schema["\(method) \(template)"] as? [String: Any] else {
            return error(404, "not found", record: "\(method) \(path) is not an operation enrollment uses")
        }
        let known = Set((spec["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        for name in query.keys where !known.contains(name) { return error(400, "unknown query parameter \(name)", record: "query \(name)") }
        if let bodySchema = spec["requestBody"] as? [String: Any] {
            guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
                return error(400, "couldn't parse JSON request", record: "\(template): Content-Type is not application/json")
            }
            // Decoded as JSONValue, which tells a boolean from a number (JSONSerialization does not, on Linux).
            guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: body) else {
                return error(400, "couldn't parse JSON request", record: "\(template): no JSON object")
            }
            if let problem = Self.validate(fields, against: bodySchema) { return error(422, problem, record: "\(template): \(problem)") }
        }
        return route("\(method) \(template)", parameters, query, object as? [String: Any] ?? [:])
    }

    /// The schema's path template matching `path`, with its parameters.
    func operation(_ method: String, _ path: String) -> (String, [String: String])? {
        for key in schema.keys where key.hasPrefix(method + " ") {
            let template = String(key.dropFirst(method.count + 1))
            let want = template.split(separator: "/"), have = path.split(separator: "/")
            guard want.count == have.count else { continue }
            var parameters: [String: String] = [:]
            var matches = true
            for (segment, value) in zip(want, have) {
                if segment.hasPrefix("{") { parameters[String(segment.dropFirst().dropLast())] = String(value) } else if segment != value { matches = false }
            }
            if matches { return (template, parameters) }
        }
        return nil
    }

    /// The first way `fields` breaks `schema` (required fields, types, integer bounds, array item types).
    static func validate(_ fields: [String: JSONValue], against schema: [String: Any]) -> String? {
        for name in schema["required"] as? [String] ?? [] where fields[name] == nil { return "\(name) is required" }
        let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        for (name, value) in fields {
            guard let property = properties[name] else { continue }
            if let problem = check(value, property, name) { return problem }
        }
        return nil
    }

    static func check(_ value: JSONValue, _ property: [String: Any], _ name: String) -> String? {
        switch (property["type"] as? String, value) {
        case ("string", .string), ("boolean", .bool): return nil
        case ("string", _): return "\(name) must be a string"
        case ("boolean", _): return "\(name) must be a boolean"
        case ("integer", .number(let number)):
            guard number.rounded() == number else { return "\(name) must be an integer" }
            if let minimum = property["minimum"] as? Int, number < Double(minimum) { return "\(name) must be at least \(minimum)" }
            if let maximum = property["maximum"] as? Int, number > Double(maximum) { return "\(name) must be at most \(maximum)" }
            return nil
        case ("integer", _): return "\(name) must be an integer"
        case ("array", .array(let items)):
            guard let itemSchema = property["items"] as? [String: Any] else { return nil }
            for item in items { if let problem = check(item, itemSchema, name + "[]") { return problem } }
            return nil
        case ("array", _): return "\(name) must be an array"
        default: return nil
        }
    }

    func route(_ operation: String, _ parameters: [String: String], _ query: [String: String], _ body: [String: Any]) -> Response {
        switch operation {
        case "GET /api/groups":
            let groups = state.withLock { $0.groups }.filter { query["name"] == nil || $0.value == query["name"] }
            return json(groups.map { ["id": $0.key, "name": $0.value, "peers_count": 0, "resources_count": 0, "issued": "api"] })
        case "POST /api/setup-keys":
            let type = body["type"] as? String ?? "", groups = body["auto_groups"] as? [String] ?? []
            guard ["one-off", "reusable"].contains(type) else { return error(422, "unknown setup key type", record: "key type \(type)") }
            if type == "one-off", (body["usage_limit"] as? Int ?? 0) > 1 { return error(422, "one-off keys have a usage limit of 1", record: "one-off usage_limit") }
            let known = state.withLock { $0.groups }
            guard groups.allSatisfy({ known[$0] != nil && known[$0] != "All" }) else { return error(422, "invalid auto groups", record: "auto_groups \(groups)") }
            let key = Key(id: UUID().uuidString.lowercased(), key: UUID().uuidString.uppercased(), name: body["name"] as? String ?? "", type: type,
                          groups: groups, expiresIn: body["expires_in"] as? Int ?? 0, revoked: false, usedTimes: 0)
            state.withLock { $0.keys.append(key) }
            return json(view(key, plain: true))
        case "PUT /api/setup-keys/{keyId}":
            let id = parameters["keyId"] ?? ""
            let updated = state.withLock { state -> Key? in
                guard let index = state.keys.firstIndex(where: { $0.id == id }) else { return nil }
                state.keys[index].revoked = body["revoked"] as? Bool ?? false
                state.keys[index].groups = body["auto_groups"] as? [String] ?? []
                return state.keys[index]
            }
            guard let updated else { return error(404, "setup key not found", record: nil) }
            return json(view(updated, plain: false))
        case "GET /api/peers":
            let peers = state.withLock { $0.peers }.filter { query["name"] == nil || $0.hostname == query["name"] }
            return json(peers.map { peer in
                ["id": peer.id, "name": peer.hostname, "hostname": peer.hostname, "ip": peer.ip, "connected": true, "dns_label": peer.hostname,
                 "created_at": peer.createdAt.formatted(.iso8601), "groups": peer.groups.map { ["id": $0] }] as [String: Any]
            })
        case "DELETE /api/peers/{peerId}":
            let id = parameters["peerId"] ?? ""
            let removed = state.withLock { state -> Bool in
                let before = state.peers.count
                state.peers.removeAll { $0.id == id }
                return state.peers.count < before
            }
            return removed ? json([String: Any]()) : error(404, "peer not found", record: nil)
        default:
            return error(404, "not found", record: "\(operation) has no handler")
        }
    }

    /// The stand-in client's enrollment: a valid, unused key registers a peer under the given host name.
    func join(_ body: [String: Any]) -> Response {
        let key = (body["setup_key"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let hostname = body["hostname"] as? String ?? ""
        return state.withLock { state -> Response in
            guard let index = state.keys.firstIndex(where: { $0.key == key }) else { return Self.plain(401, "invalid setup key") }
            guard !state.keys[index].revoked, state.keys[index].type != "one-off" || state.keys[index].usedTimes == 0 else {
                return Self.plain(403, "setup key is revoked or used up")
            }
            state.keys[index].usedTimes += 1
            let peer = Peer(id: "peer-" + UUID().uuidString.prefix(8).lowercased(), hostname: hostname, ip: "100.64.0.\(state.peers.count + 10)",
                            createdAt: Date(), groups: state.keys[index].groups)
            state.peers.append(peer)
            return Self.plain(200, peer.ip)
        }
    }

    func view(_ key: Key, plain: Bool) -> [String: Any] {
        ["id": key.id, "key": plain ? key.key : String(key.key.prefix(5)) + "****", "name": key.name, "type": key.type, "valid": !key.revoked,
         "revoked": key.revoked, "used_times": key.usedTimes, "state": key.revoked ? "revoked" : "valid", "auto_groups": key.groups,
         "usage_limit": key.type == "one-off" ? 1 : 0, "ephemeral": false, "expires": Date().addingTimeInterval(Double(key.expiresIn)).formatted(.iso8601)]
    }

    func error(_ code: Int, _ message: String, record: String?) -> Response {
        if let record { state.withLock { $0.violations.append(record) } }
        return Self.jsonResponse(code, ["message": message, "code": code])
    }

    func json(_ value: Any) -> Response { Self.jsonResponse(200, value) }

    static func jsonResponse(_ code: Int, _ value: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
    }

    static func plain(_ code: Int, _ text: String) -> Response {
        Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
