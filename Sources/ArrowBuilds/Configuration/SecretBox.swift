import ArrowCore
import Crypto
import Foundation

/// Seals secrets for storage with AES-256-GCM. Each sealed value names the key it was sealed with (the first bytes
/// of the key's SHA-256), so a server started with another key says so instead of failing to decrypt, and carries
/// its context (organization and field) as authenticated data, so a sealed value copied into another
/// organization's row or another field does not open.
public struct SecretBox: Sendable {
    /// Kept as bytes (`SymmetricKey` is not `Sendable`); a key is made for each use.
    private let keyBytes: Data
    let keyID: String

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// `keyBytes`: 32 bytes.
    public init(keyBytes: Data) throws {
        guard keyBytes.count == 32 else {
            throw ArrowError(.internalError, reason: "secret_key_invalid", "The secrets key must be 32 bytes")
        }
        self.keyBytes = keyBytes
        keyID = Hex.string(Array(SHA256.hash(data: keyBytes).prefix(4)))
    }

    /// A box with a new random key that dies with the process.
    public static func ephemeral() -> SecretBox {
        // A 32-byte key cannot be refused.
        try! SecretBox(keyBytes: generateKey())
    }

    /// A new random key, for tests and first start.
    public static func generateKey() -> Data { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) } }

    static let prefix = "sealed:v1:"

    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw ArrowError(.internalError, reason: "secret_seal_failed", "Could not seal a secret") }
        return Self.prefix + keyID + ":" + combined.base64EncodedString()
    }

    public func open(_ sealed: String, context: String) throws -> String {
        guard sealed.hasPrefix(Self.prefix) else { throw Self.unreadable }
        let rest = sealed.dropFirst(Self.prefix.count).split(separator: ":", maxSplits: 1)
        guard rest.count == 2, let combined = Data(base64Encoded: String(rest[1])) else { throw Self.unreadable }
        guard rest[0] == keyID else {
            throw ArrowError(.internalError, reason: "secret_key_mismatch",
                             "A stored secret was sealed with another key (\(rest[0])); start the server with that ARROW_SECRETS_KEY")
        }
        do {
            let plaintext = try AES.GCM.open(try AES.GCM.SealedBox(combined: combined), using: key, authenticating: Data(context.utf8))
            return String(decoding: plaintext, as: UTF8.self)
        } catch {
            throw Self.unreadable
        }
    }

    public static func isSealed(_ value: String) -> Bool { value.hasPrefix(prefix) }

    static let unreadable = ArrowError(.internalError, reason: "secret_unreadable", "A stored secret does not open with this server's key")

    /// HMAC-SHA256 of `message` under `secret`, lowercase hex: the signature of an organization's webhook.
    public static func signature(secret: String, message: Data) -> String {
        Hex.string(Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))))
    }
}
