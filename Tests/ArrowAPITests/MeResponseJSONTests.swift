@testable import ArrowAPI
import ArrowCore
import Foundation
import Testing

/// `/api/me`'s hand-written JSON is byte for byte what the streaming encoder writes for `MeResponse`'s Codable form,
/// which in turn parses to what Foundation's encoder writes: a renamed or added DTO property fails here.
@Suite struct MeResponseJSONTests {
    static let created = Date(timeIntervalSince1970: 1_700_000_000.75)

    static func response(user: User, organization: Organization?, permissions: [String]) -> MeResponse {
        MeResponse(
            user: UserDTO(user), organization: organization.map(OrganizationDTO.init), role: user.role.rawValue,
            permissions: permissions, tokenId: TokenID.generate().rawValue)
    }

    static let samples: [MeResponse] = {
        let organization = Organization(name: "Acme \"Labs\" \\ ünïcødé 🚀", createdAt: created)
        let admin = User(
            organizationID: organization.id, email: "a+b@example.test", name: "Tab\there\nnewline \u{1}", role: .admin,
            passwordHash: "never-encoded", createdAt: created)
        let superuser = User(
            organizationID: nil, email: "root@example.test", name: "root", role: .superuser, passwordHash: nil,
            createdAt: Date(timeIntervalSince1970: 0))
        let builder = User(
            organizationID: organization.id, email: "builder@example.test", name: "builder", role: .builder,
            kind: .service, passwordHash: nil, createdAt: created)
        return [
            response(user: admin, organization: organization, permissions: ["build.read", "image.read"]),
            response(user: superuser, organization: nil, permissions: Permission.allCases.map(\.rawValue).sorted()),
            response(user: builder, organization: organization, permissions: []),
        ]
    }()

    @Test(arguments: samples) func handWrittenEqualsTheCodableEncoding(_ me: MeResponse) throws {
        var writer = JSONWriter()
        writer.object { $0.write(me) }
        let streamed = try StreamingJSONEncoder.encode(me)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: streamed, as: UTF8.self))
        #expect(APIResponseEncoder.agree(writer.bytes, me))
    }

    @Test func nilMembersAreLeftOut() throws {
        let me = Self.samples[1]
        var writer = JSONWriter()
        writer.object { $0.write(me) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect(object["organization"] == nil)
        let user = try #require(object["user"] as? [String: Any])
        #expect(user["organization_id"] == nil)
        #expect(user["created_at"] as? String == "1970-01-01T00:00:00Z")
    }
}
