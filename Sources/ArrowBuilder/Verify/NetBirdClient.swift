import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The NetBird management REST API, as far as enrollment needs it (external-apis.md §2): groups resolved by name
/// to ids, a one-off setup key per deployment, the peer that key registered (found by host name and creation time,
/// never by name alone), the key revoked afterwards, and a half-registered peer deleted. Authenticates with a
/// personal access token (`Authorization: Token nbp_…`). Errors carry NetBird's `{message, code}`, never the token.
public struct NetBirdClient: Sendable {
    public struct SetupKey: Sendable, Equatable {
        public var id: String
        public var key: String
    }

    public struct Peer: Sendable, Equatable {
        public var id: String
        public var ip: String
        public var hostname: String
        public var createdAt: Date?
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let http: HTTPClient
    /// `https://api.netbird.io` or a self-hosted management host; paths start with `/api`.
    let baseURL: String
    let token: String

    public init(http: HTTPClient, baseURL: String, token: String) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }

    /// Group ids for `names` (exact names; "All" is refused by NetBird for keys, so it is refused here first).
    public func groupIDs(_ names: [String]) async throws -> [String] {
        var ids: [String] = []
        for name in names {
            guard name != "All" else { throw Failure(description: "the All group cannot be given to a setup key") }
            let groups = try await call(.GET, "/api/groups?name=" + Self.query(name)) as? [[String: Any]] ?? []
            guard let id = groups.first(where: { $0["name"] as? String == name })?["id"] as? String else {
                throw Failure(description: "NetBird has no group named \(name)")
            }
            ids.append(id)
        }
        return ids
    }

    /// A one-off key (usage limit 1), valid for `expiresIn` seconds, joining `groups`.
    public func createOneOffKey(name: String, groups: [String], expiresIn: Int) async throws -> SetupKey {
        let body: [String: Any] = ["name": name, "type": "one-off", "expires_in": expiresIn, "auto_groups": groups, "usage_limit": 1, "ephemeral": false]
        let answer = try await call(.POST, "/api/setup-keys", body: body) as? [String: Any]
        guard let id = answer?["id"] as? String, let key = answer?["key"] as? String, !key.isEmpty else {
            throw Failure(description: "NetBird answered a setup key without its id or key")
        }
        return SetupKey(id: id, key: key)
    }

    /// Revokes a key (the PUT needs its groups too).
    public func revoke(_ key: SetupKey, groups: [String]) async throws {
        _ = try await call(.PUT, "/api/setup-keys/" + Self.query(key.id), body: ["revoked": true, "auto_groups": groups])
    }

    /// Peers registered as `hostname` since `since` (names are not unique: the creation time tells them apart).
    public func peers(hostname: String, since: Date) async throws -> [Peer] {
        let list = try await call(.GET, "/api/peers?name=" + Self.query(hostname)) as? [[String: Any]] ?? []
        return list.compactMap { item -> Peer? in
            guard let id = item["id"] as? String, (item["hostname"] as? String ?? item["name"] as? String) == hostname else { return nil }
            let created = (item["created_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) }
            if let created, created < since.addingTimeInterval(-60) { return nil }
            return Peer(id: id, ip: item["ip"] as? String ?? "", hostname: hostname, createdAt: created)
        }
    }

    public func deletePeer(_ id: String) async throws {
        _ = try await call(.DELETE, "/api/peers/" + Self.query(id))
    }

    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> Any? {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Token " + token)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(30))
        } catch {
            throw Failure(description: "NetBird API \(method) \(Self.pathOnly(path)) could not be reached: \(error)")
        }
        let data = Data((try await response.body.collect(upTo: 8 << 20)).readableBytesView)
        let object = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = (object as? [String: Any])?["message"] as? String ?? "no message"
            throw Failure(description: "NetBird API \(method) \(Self.pathOnly(path)) answered \(response.status.code): \(message)")
        }
        return object
    }

    static func query(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }

    static func pathOnly(_ path: String) -> String { String(path.prefix { $0 != "?" }) }
}
