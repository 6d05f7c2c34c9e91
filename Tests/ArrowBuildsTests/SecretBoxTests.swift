@testable import ArrowBuilds
import ArrowCore
import Foundation
import Testing

@Suite struct SecretBoxTests {
    let box = SecretBox.ephemeral()

    @Test func sealedValuesOpenOnlyWithTheirContextAndKey() throws {
        let sealed = try box.seal("nb-setup-key-123", context: "client_config/org-a/vpn_config.setup_key")
        #expect(!sealed.contains("nb-setup-key-123"))
        #expect(SecretBox.isSealed(sealed))
        #expect(try box.open(sealed, context: "client_config/org-a/vpn_config.setup_key") == "nb-setup-key-123")
        // Copied into another organization's row, or another field: refused.
        #expect(throws: ArrowError.self) { try box.open(sealed, context: "client_config/org-b/vpn_config.setup_key") }
        // Two seals of one value differ (a fresh nonce each time).
        #expect(try box.seal("x", context: "c") != (try box.seal("x", context: "c")))
    }

    @Test func anotherKeyIsNamedNotGuessed() throws {
        let sealed = try box.seal("secret", context: "c")
        let other = SecretBox.ephemeral()
        let error = try #require(throws: ArrowError.self) { try other.open(sealed, context: "c") }
        #expect(error.reason == "secret_key_mismatch")
        #expect(!error.message.contains("secret,"))
    }

    @Test func tamperedOrForeignTextIsRefused() throws {
        var sealed = Array(try box.seal("secret", context: "c"))
        // A character well inside the ciphertext (the last ones may be padding or bits base64 drops).
        sealed[sealed.count - 12] = sealed[sealed.count - 12] == "A" ? "B" : "A"
        #expect((try? box.open(String(sealed), context: "c")) == nil)
        #expect((try? box.open("plaintext", context: "c")) == nil)
        #expect(throws: ArrowError.self) { try SecretBox(keyBytes: Data(count: 16)) }
    }

    /// RFC 4231 test case 2.
    @Test func webhookSignatureIsHMACSHA256() {
        #expect(SecretBox.signature(secret: "Jefe", message: Data("what do ya want for nothing?".utf8))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
