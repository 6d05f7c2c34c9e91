import Testing
@testable import ArrowAPI

/// `Authorization` header parsing: the scheme in any case, blanks around the token, and everything else refused.
struct BearerTokenTests {
    @Test(arguments: [
        ("Bearer arw_abc", "arw_abc"),
        ("bearer arw_abc", "arw_abc"),
        ("BEARER arw_abc", "arw_abc"),
        ("bEaReR \t arw_abc \t", "arw_abc"),
        ("Bearer\tarw_abc", "arw_abc"),
        ("Bearer a b", "a b"),
        ("Bearer é✓", "é✓"),
    ])
    func acceptsTheBearerScheme(_ header: String, _ token: String) {
        #expect(BearerAuthentication.bearerToken(header) == token)
    }

    @Test(arguments: ["", "Bearer", "Bearer ", "Bearer \t ", "Bearerarw_abc", "Basic Zm9vOmJhcg==", "Bearex arw", "Bear",
                      " Bearer arw_abc", "Béarer arw", "Token arw_abc", "BEARER\u{A0}arw"])
    func refusesEverythingElse(_ header: String) {
        #expect(BearerAuthentication.bearerToken(header) == nil)
    }
}
