import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOSSL
import Synchronization

/// A loopback stand-in for a Proxmox VE node's REST API (external-apis.md §1), started by a test. Every request is
/// checked against the published schema (``PVESchema``: path, method, parameters, formats) and PVE's transport
/// rules (form or JSON bodies, multipart only on upload with a `Content-Length` and the fields in PVE's order, a
/// `filename` part whose name passes the content's extension rules, a matching sha256); what is wrong is recorded
/// in ``violations`` and answered as PVE would (400 with `errors`, 403 "Permission check failed", 501, 506). It
/// answers like PVE: `{"data": …}` envelopes, UPIDs naming the node the task runs on (an upload runs on the node the
/// client is connected to, ``apiNode``), tasks that report `running` once before they stop, task logs, `nextid` as
/// a string, a guest agent that answers once the VM runs (or never, ``agentUp``).
public final class FakeProxmox: Sendable {
    public struct VM: Sendable {
        public var vmid: Int
        public var node: String
        public var config: [String: String]
        public var running: Bool
    }

    public struct Volume: Sendable {
        public var volid: String
        public var size: Int
        public var sha256: String
    }

    public struct Options: Sendable {
        public var tokenID = "arrow@pve!deploy"
        public var tokenSecret = "5f1c6f2e-0000-4000-8000-0123456789ab"
        public var user = "arrow@pve"
        public var password = "pve-password-not-for-logs"
        public var node = "pve1"
        /// The node the API is reached on (uploads run here).
        public var apiNode = "pve-api"
        /// Storage id → content types.
        public var storages: [String: Set<String>] = ["local": ["iso", "vztmpl", "import", "snippets"], "local-lvm": ["images", "rootdir"]]
        /// Path → privileges of the caller; nil: every privilege everywhere.
        public var permissions: [String: Set<String>]? = nil
        public var agentUp = true
        public var addresses = ["192.0.2.50", "fe80::1"]
        public var uploadFailsWith500 = false
        /// Before the next create, another client takes the id `nextid` gave out.
        public var raceNextID = false
        /// Where the `snippets` content of storage `local` lives on this host (a `cicustom` volume must exist there).
        public var snippetsDirectory: String?
        /// Called when a VM starts (a test's stand-in for what its first boot does, such as joining NetBird).
        public var onStart: (@Sendable (VM) async -> Void)?
        /// HTTPS with this certificate and key (PEM), as a node's `pveproxy-ssl.pem`; nil: plain HTTP.
        public var tlsCertificatePEM: String?
        public var tlsKeyPEM: String?
        public init() {}
    }

    struct TaskRecord {
        var upid: String
        var node: String
        var type: String
        var log: [String]
        var exitStatus: String
        var polls = 0
    }

    struct State {
        var options: Options
        var vms: [Int: VM] = [:]
        var volumes: [String: Volume] = [:]
        var tasks: [String: TaskRecord] = [:]
        var tickets: [String: String] = [:]  // ticket → CSRF token
        var requests: [String] = []
        var violations: [String] = []
        var pid = 0x1000
    }

    public let port: Int
    let schema: PVESchema
    let uploads: String
    let state: Mutex<State>
    private let task = Mutex<Task<Void, any Error>?>(nil)

    public var url: String { (state.withLock { $0.options.tlsCertificatePEM } == nil ? "http" : "https") + "://127.0.0.1:\(port)" }
    public var vms: [VM] { state.withLock { Array($0.vms.values) } }
    public var volumes: [Volume] { state.withLock { Array($0.volumes.values) } }
    /// "METHOD /path" of every API call, in order.
    public var requests: [String] { state.withLock { $0.requests } }
    public var violations: [String] { state.withLock { $0.violations } }
    public var options: Options { state.withLock { $0.options } }
    public func update(_ change: (inout Options) -> Void) { state.withLock { change(&$0.options) } }
    /// Another client makes a VM (the `nextid` race).
    public func takeID(_ vmid: Int) { state.withLock { $0.vms[vmid] = VM(vmid: vmid, node: $0.options.node, config: ["name": "someone-else"], running: false) } }

    public static func start(_ options: Options = Options()) async throws -> FakeProxmox {
        let schema = try PVESchema.load()
        let uploads = FileManager.default.temporaryDirectory.appendingPathComponent("fake-pve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        let box = Mutex<FakeProxmox?>(nil)
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method) { request, _ in await box.withLock { $0 }!.handle(request) }
        }
        var tls: TLSConfiguration?
        if let certificate = options.tlsCertificatePEM, let key = options.tlsKeyPEM {
            tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
        }
        let (bound, running) = try await LoopbackServer.start(router, label: "fake-proxmox", tls: tls)
        let fake = FakeProxmox(port: bound, schema: schema, uploads: uploads, options: options)
        box.withLock { $0 = fake }
        fake.task.withLock { $0 = running }
        return fake
    }

    private init(port: Int, schema: PVESchema, uploads: String, options: Options) {
        self.port = port
        self.schema = schema
        self.uploads = uploads
        state = Mutex(State(options: options))
    }

    public func stop() async {
        let running = task.withLock { task -> Task<Void, any Error>? in defer { task = nil }; return task }
        running?.cancel()
        _ = await running?.result
        try? FileManager.default.removeItem(atPath: uploads)
    }

    // MARK: Transport

    func handle(_ request: Request) async -> Response {
        let method = request.method.rawValue
        guard request.uri.path.hasPrefix("/api2/json/") else { return error(404, "no such path", record: "\(request.uri.path) is not under /api2/json") }
        let path = String(request.uri.path.dropFirst("/api2/json".count))
        state.withLock { $0.requests.append("\(method) \(path)") }
        let contentType = request.headers[.contentType] ?? ""
        let isUpload = method == "POST" && path.hasSuffix("/upload")
        var parameters = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { $1 })
        var upload: ReceivedFile?
        if isUpload {
            guard contentType.hasPrefix("multipart/form-data"), let boundary = contentType.components(separatedBy: "boundary=").last else {
                return error(501, "upload 'Content-Type' must be multipart/form-data", record: "upload without multipart")
            }
            guard request.headers[.contentLength] != nil, request.headers[.transferEncoding] == nil else {
                return error(501, "upload requires a Content-Length (chunked transfer is not supported)", record: "upload without Content-Length")
            }
            do {
                let file = try await receive(request.body, boundary: boundary)
                for (name, value) in file.fields { parameters[name] = value }
                parameters["filename"] = file.fileName
                upload = file
            } catch {
                return self.error(400, "\(error)", record: "upload: \(error)")
            }
        } else if method == "POST" || method == "PUT" {
            let body = (try? await request.body.collect(upTo: 512 << 10)).map { String(buffer: $0) } ?? ""
            if contentType.hasPrefix("application/x-www-form-urlencoded") {
                for pair in body.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
                    parameters[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
            } else if contentType.hasPrefix("application/json") {
                for (key, value) in (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] { parameters[key] = "\(value)" }
            } else if !body.isEmpty || !contentType.isEmpty {
                return error(506, "upload 'Content-Type \(contentType)' not implemented", record: "\(method) \(path) with Content-Type \(contentType)")
            }
        }
        if path == "/access/ticket", method == "POST" { return ticket(parameters) }
        if let problem = authenticate(request, method: method, isUpload: isUpload) { return problem }

        guard let (key, pathParameters) = schema.match(method, path) else {
            return error(501, "Method '\(method) \(path)' not implemented", record: "\(method) \(path) is not in the schema")
        }
        parameters.merge(pathParameters) { $1 }
        let errors = schema.validate(key, parameters)
        guard errors.isEmpty else {
            state.withLock { $0.violations.append("\(key): " + errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")) }
            return respond(400, ["message": "Parameter verification failed.", "errors": errors, "data": NSNull()])
        }
        if let denied = permissionDenied(key, parameters) { return error(403, "Permission check failed (\(denied))", record: nil) }
        return route(key, parameters, upload)
    }

    func authenticate(_ request: Request, method: String, isUpload: Bool) -> Response? {
        let options = state.withLock { $0.options }
        if let authorization = request.headers[.authorization], authorization.hasPrefix("PVEAPIToken=") {
            guard authorization == "PVEAPIToken=\(options.tokenID)=\(options.tokenSecret)" else { return error(401, "authentication failure", record: "wrong API token") }
            return nil
        }
        let cookie = request.headers[.cookie] ?? ""
        guard let ticket = cookie.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { $0.hasPrefix("PVEAuthCookie=") })?
            .dropFirst("PVEAuthCookie=".count), let csrf = state.withLock({ $0.tickets[String(ticket)] }) else {
            return error(401, "authentication failure", record: "no token and no ticket")
        }
        if method != "GET" && !isUpload && request.headers[HTTPField.Name("CSRFPreventionToken")!] != csrf {
            return error(401, "Permission denied - invalid csrf token", record: "\(method) without the CSRF token")
        }
        return nil
    }

    func ticket(_ parameters: [String: String]) -> Response {
        let options = state.withLock { $0.options }
        guard parameters["username"] == options.user, parameters["password"] == options.password else { return error(401, "authentication failure", record: nil) }
        let ticket = "PVE:\(options.user):" + UUID().uuidString, csrf = UUID().uuidString
        state.withLock { $0.tickets[ticket] = csrf }
        return respond(200, ["data": ["username": options.user, "ticket": ticket, "CSRFPreventionToken": csrf]])
    }

    /// The schema's `check` (`["perm", path, privileges, "any", 1]`), and for VM creation what its description says.
    func permissionDenied(_ key: String, _ parameters: [String: String]) -> String? {
        guard let granted = state.withLock({ $0.options.permissions }) else { return nil }
        func has(_ path: String, _ privilege: String) -> Bool {
            var candidate = path
            while true {
                if let privileges = granted[candidate] { return privileges.contains(privilege) }
                if candidate == "/" { return false }
                candidate = "/" + candidate.split(separator: "/").dropLast().joined(separator: "/")
            }
        }
        func fill(_ path: String) -> String {
            parameters.reduce(path) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }
        if key == "POST /nodes/{node}/qemu" {
            var needs = [("/vms/\(parameters["vmid"] ?? "")", "VM.Allocate")]
            if let disk = parameters["scsi0"]?.split(separator: ":").first { needs.append(("/storage/\(disk)", "Datastore.AllocateSpace")) }
            if let bridge = parameters["net0"]?.components(separatedBy: "bridge=").dropFirst().first?.split(separator: ",").first {
                needs.append(("/sdn/zones/localnetwork/\(bridge)", "SDN.Use"))
            }
            return needs.first { !has($0.0, $0.1) }.map { "\($0.0), \($0.1)" }
        }
        guard let check = (schema.call(key)?["permissions"] as? [String: Any])?["check"] as? [Any], check.first as? String == "perm",
              let path = check[safe: 1] as? String, let privileges = check[safe: 2] as? [String] else { return nil }
        let any = check.count > 3 && check[3] as? String == "any"
        let ok = any ? privileges.contains { has(fill(path), $0) } : privileges.allSatisfy { has(fill(path), $0) }
        return ok ? nil : "\(fill(path)), \(privileges.joined(separator: any ? " | " : ", "))"
    }

    // MARK: Answers

    func respond(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json;charset=UTF-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func data(_ value: Any) -> Response { respond(200, ["data": value]) }

    /// PVE's error: the text in the reason phrase and (since libpve-http-server-perl 5.2.0) in `message`.
    func error(_ status: Int, _ message: String, record: String?) -> Response {
        if let record { state.withLock { $0.violations.append(record) } }
        let data = (try? JSONSerialization.data(withJSONObject: ["message": message + "\n", "data": NSNull()])) ?? Data()
        return Response(status: .init(code: status, reasonPhrase: message), headers: [.contentType: "application/json;charset=UTF-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func newTask(node: String, type: String, id: String, log: [String], exitStatus: String = "OK") -> String {
        state.withLock { state in
            state.pid += 1
            let options = state.options
            let user = options.tokenID
            let upid = String(format: "UPID:%@:%08X:%08X:%08X:%@:%@:%@:", node, state.pid, 0x1234, Int(Date().timeIntervalSince1970), type, id, user)
            state.tasks[upid] = TaskRecord(upid: upid, node: node, type: type, log: log, exitStatus: exitStatus)
            return upid
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
