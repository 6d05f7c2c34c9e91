import ArrowProtocol
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The Proxmox VE REST API (`https://HOST:8006/api2/json`, external-apis.md §1), as far as deploying a disk image
/// needs it. Bodies go form-encoded (booleans as 1/0), answers come in `{"data": …}` envelopes; an error carries
/// PVE's `message` (or the reason phrase older servers put it in) and the per-parameter `errors`, never a secret.
public final class ProxmoxClient: Sendable {
    public enum Authentication: Sendable {
        /// `USER@REALM!TOKENID` and its secret: no ticket, no CSRF token.
        case token(id: String, secret: String)
        /// A ticket from `POST /access/ticket` (2 h), with its CSRF token on every request that changes something.
        case password(user: String, password: String)
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// The HTTP status (0: PVE could not be reached).
        public var status: Int
        public var message: String
        /// Per-parameter validation errors (400).
        public var errors: [String: String]
        public var call: String

        public var description: String {
            let detail = errors.isEmpty ? "" : " (" + errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ") + ")"
            return status == 0 ? "Proxmox VE \(call) could not be reached: \(message)" : "Proxmox VE \(call) answered \(status): \(message)\(detail)"
        }
    }

    let http: HTTPClient
    /// `https://pve.example:8006` (no path).
    public let baseURL: String
    let authentication: Authentication
    private let ticket = TicketHolder()

    /// `caPEM`: the certificate(s) that sign the server's (PVE's own `/etc/pve/pve-root-ca.pem` for a default
    /// install); without it the system's trust store decides. `pinnedPEM`: the one certificate to trust, whatever
    /// name it carries (``CertificatePin``).
    /// `connectTo`: the address to connect to instead of resolving the URL's host (checked by the caller); TLS and
    /// `Host` still name the host.
    public init(baseURL: String, authentication: Authentication, caPEM: String? = nil, pinnedPEM: String? = nil, connectTo: String? = nil) throws {
        var configuration = HTTPClient.Configuration()
        if let connectTo, let host = URL(string: baseURL)?.host { configuration.dnsOverride = [host: connectTo] }
        if let pinnedPEM {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pinnedPEM.utf8)))
            // The pin is the identity: a node's certificate often names neither the address nor the name it is reached by.
            tls.certificateVerification = .noHostnameVerification
            configuration.tlsConfiguration = tls
        } else if let caPEM, !caPEM.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            configuration.tlsConfiguration = tls
        }
        configuration.timeout = .init(connect: .seconds(10))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.authentication = authentication
    }

    /// A client for a registered endpoint: with a pinned fingerprint, the certificate is read and checked first.
    public static func connect(baseURL: String, authentication: Authentication, caPEM: String?, fingerprint: String?,
                               connectTo: String? = nil) async throws -> ProxmoxClient {
        guard let fingerprint, !fingerprint.isEmpty else {
            return try ProxmoxClient(baseURL: baseURL, authentication: authentication, caPEM: caPEM, connectTo: connectTo)
        }
        let pinned = try await CertificatePin.fetch(url: baseURL, fingerprint: fingerprint, connectTo: connectTo)
        return try ProxmoxClient(baseURL: baseURL, authentication: authentication, pinnedPEM: pinned, connectTo: connectTo)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: Requests

    /// One API call; `parameters` go in the query for GET and DELETE, form-encoded in the body otherwise.
    public func call(_ method: HTTPMethod, _ path: String, _ parameters: [(String, String)] = [], timeout: TimeAmount = .seconds(60)) async throws -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + "/api2/json" + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        let form = FormEncoding.encode(parameters)
        if method == .GET || method == .DELETE {
            if !form.isEmpty { request.url += "?" + form }
        } else {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        try await authenticate(&request, changes: method != .GET)
        return try await send(request, call: "\(method) \(path)", timeout: timeout)
    }

    func send(_ request: HTTPClientRequest, call: String, timeout: TimeAmount) async throws -> JSONValue {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw Failure(status: 0, message: "\(error)", errors: [:], call: call)
        }
        let data = Data((try await response.body.collect(upTo: 16 << 20)).readableBytesView)
        let envelope = (data.isEmpty ? nil : try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = envelope["message"].string ?? response.status.reasonPhrase
            let errors = envelope["errors"].object.mapValues { ($0.string ?? "invalid").trimmingCharacters(in: .whitespacesAndNewlines) }
            throw Failure(status: Int(response.status.code), message: message.trimmingCharacters(in: .whitespacesAndNewlines), errors: errors, call: call)
        }
        return envelope["data"]
    }

    func authenticate(_ request: inout HTTPClientRequest, changes: Bool) async throws {
        switch authentication {
        case .token(let id, let secret):
            request.headers.add(name: "Authorization", value: "PVEAPIToken=\(id)=\(secret)")
        case .password(let user, let password):
            let current = try await ticket.current { try await self.login(user: user, password: password) }
            request.headers.add(name: "Cookie", value: "PVEAuthCookie=" + current.ticket)
            if changes { request.headers.add(name: "CSRFPreventionToken", value: current.csrf) }
        }
    }

    func login(user: String, password: String) async throws -> Ticket {
        var request = HTTPClientRequest(url: baseURL + "/api2/json/access/ticket")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode([("username", user), ("password", password)])))
        let answer = try await send(request, call: "POST /access/ticket", timeout: .seconds(30))
        guard let ticket = answer["ticket"].string, let csrf = answer["CSRFPreventionToken"].string else {
            throw Failure(status: 200, message: "the ticket answer has no ticket or CSRF token", errors: [:], call: "POST /access/ticket")
        }
        return Ticket(ticket: ticket, csrf: csrf, expires: Date().addingTimeInterval(2 * 3600 - 300))
    }

    struct Ticket: Sendable {
        var ticket: String
        var csrf: String
        var expires: Date
    }

    /// One ticket at a time, renewed before its two hours end.
    actor TicketHolder {
        var ticket: Ticket?

        func current(_ login: @Sendable () async throws -> Ticket) async throws -> Ticket {
            if let ticket, ticket.expires > Date() { return ticket }
            let fresh = try await login()
            ticket = fresh
            return fresh
        }
    }
}

/// Lenient reading of PVE's answers: numbers come as strings in places (`nextid`), and the other way round.
extension JSONValue {
    public subscript(key: String) -> JSONValue {
        if case .object(let fields) = self { return fields[key] ?? .null }
        return .null
    }

    public var string: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value.rounded() == value ? String(Int64(value)) : String(value)
        default: nil
        }
    }

    public var int: Int? {
        switch self {
        case .number(let value): Int(exactly: value.rounded())
        case .string(let value): Int(value)
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    public var array: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    public var object: [String: JSONValue] {
        if case .object(let fields) = self { return fields }
        return [:]
    }
}

/// `application/x-www-form-urlencoded` as PVE reads it: everything but unreserved characters percent-encoded
/// (a space as `%20`, never `+`).
public enum FormEncoding {
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    public static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    public static func encode(_ parameters: [(String, String)]) -> String {
        parameters.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }
}
