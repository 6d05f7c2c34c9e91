import ArrowCore
import Foundation
import Testing

/// Types that hold a credential show themselves without it in every way Swift prints a value.
@Suite struct RedactionTests {
    /// Every rendering a log line, an error message or a debugger might use.
    static func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        let mirrored = Mirror(reflecting: value).children.map { "\($0.label ?? ""): \(String(reflecting: $0.value))" }.joined(separator: ", ")
        return [String(describing: value), String(reflecting: value), "\(value)", dumped, mirrored]
    }

    static func expectHidden(_ secret: String, in value: Any, sourceLocation: SourceLocation = #_sourceLocation) {
        for rendering in renderings(value) {
            #expect(!rendering.contains(secret), "\(rendering)", sourceLocation: sourceLocation)
        }
        #expect(String(reflecting: value).contains("<redacted>"), sourceLocation: sourceLocation)
    }

    @Test func redactedValuesNeverShow() {
        Self.expectHidden("hunter2", in: Redacted("hunter2"))
        Self.expectHidden("[1, 2, 3]", in: Redacted<[UInt8]>([1, 2, 3]))
        #expect(Redacted("a").value == "a")
    }

    @Test func usersTokensAndIssuedTokensHideTheirCredentials() {
        let hash = "$2b$12$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ"
        let user = User(organizationID: OrganizationID("o"), email: "a@b.c", name: "A", role: .admin, passwordHash: hash, createdAt: Date())
        Self.expectHidden(hash, in: user)
        #expect(String(describing: user).contains("a@b.c"), "the other fields still show")

        let digest = String(repeating: "ab", count: 32)
        let token = APIToken(userID: user.id, name: "t", kind: .api, digest: digest, prefix: "arw_abcd", scopes: nil, expiresAt: nil, createdAt: Date())
        Self.expectHidden(digest, in: token)

        let issued = IssuedToken(token: token, secret: "arw_supersecretvalue", owner: user)
        Self.expectHidden("arw_supersecretvalue", in: issued)
        Self.expectHidden(digest, in: issued)
        Self.expectHidden(hash, in: issued)
        // Nested in a type with no redaction of its own (a principal, an array, an optional), still hidden.
        let principal = Principal(user: user, tokenID: token.id, permissions: [])
        Self.expectHidden(hash, in: principal)
        Self.expectHidden(digest, in: [token])
        Self.expectHidden("arw_supersecretvalue", in: Optional(issued) as Any)
    }
}
