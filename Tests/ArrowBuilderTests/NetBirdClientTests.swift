@testable import ArrowBuilder
import ArrowTesting
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The NetBird management API client against the loopback fake, which checks every request against NetBird's
/// published OpenAPI document and the server's rules.
@Suite struct NetBirdClientTests {
    static let token = "nbp_" + String(repeating: "a1B2c3", count: 6)

    @Test func oneOffKeyWithGroupIDsThePeerItRegisteredRevocationAndDeletion() async throws {
        let fake = try await FakeNetBird.start(token: Self.token, groups: ["builds", "All"])
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { await fake.stop(); try? await http.shutdown() } }
        let client = NetBirdClient(http: http, baseURL: fake.url, token: Self.token)

        let groups = try await client.groupIDs(["builds"])
        #expect(groups == [try #require(fake.groupID("builds"))], "names are resolved to ids: NetBird's auto_groups take ids")
        await #expect(throws: NetBirdClient.Failure.self) { try await client.groupIDs(["nope"]) }
        await #expect(throws: NetBirdClient.Failure.self) { try await client.groupIDs(["All"]) }

        let since = Date()
        let key = try await client.createOneOffKey(name: "arrow-lab-01", groups: groups, expiresIn: Enrollment.keyLifetime)
        #expect(fake.keys.count == 1 && fake.keys[0].type == "one-off" && fake.keys[0].groups == groups && key.key == fake.keys[0].key)

        // The client in the VM uses the key; the peer it registers is found by host name and creation time.
        var join = HTTPClientRequest(url: fake.url + "/test/join")
        join.method = .POST
        join.body = .bytes(.init(string: #"{"setup_key":"\#(key.key)","hostname":"lab-01-1a2b3c4d"}"#))
        #expect(try await http.execute(join, timeout: .seconds(10)).status.code == 200)
        let peers = try await client.peers(hostname: "lab-01-1a2b3c4d", since: since)
        #expect(peers.count == 1 && peers[0].ip.hasPrefix("100.64."))
        #expect(try await client.peers(hostname: "lab-01", since: since).isEmpty, "another host's name is not a match")

        try await client.revoke(key, groups: groups)
        #expect(fake.keys[0].revoked)
        try await client.deletePeer(peers[0].id)
        #expect(fake.peers.isEmpty)
        #expect(fake.violations.isEmpty, "every request followed the published API: \(fake.violations)")
        #expect(fake.requests.contains("GET /api/peers?name=lab-01-1a2b3c4d"))
    }

    @Test func refusalsAreReportedWithoutTheToken() async throws {
        let fake = try await FakeNetBird.start(token: Self.token, groups: ["builds"])
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { await fake.stop(); try? await http.shutdown() } }
        let wrong = "nbp_" + String(repeating: "z", count: 36)
        do {
            _ = try await NetBirdClient(http: http, baseURL: fake.url, token: wrong).groupIDs(["builds"])
            Issue.record("a wrong token was accepted")
        } catch {
            #expect("\(error)".contains("401") && "\(error)".contains("token invalid") && !"\(error)".contains(wrong), "\(error)")
        }
        // A key shorter-lived than the published minimum is refused by the schema check, and said so.
        let client = NetBirdClient(http: http, baseURL: fake.url, token: Self.token)
        let groups = try await client.groupIDs(["builds"])
        await #expect(throws: NetBirdClient.Failure.self) { try await client.createOneOffKey(name: "short", groups: groups, expiresIn: 3600) }
        #expect(fake.violations.contains { $0.contains("expires_in must be at least 86400") }, "\(fake.violations)")
    }
}
