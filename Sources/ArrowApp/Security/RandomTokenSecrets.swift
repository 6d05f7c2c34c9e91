import ArrowCore
import Crypto
import Foundation

/// Token secrets: `arw_` + 32 random bytes (256 bits) in base64url, stored as hex SHA-256.
///
/// A plain digest is enough here (unlike passwords): the secret has full entropy, so there is nothing to guess.
public struct RandomTokenSecrets: TokenSecrets {
    public init() {}

    public func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "arw_" + text
    }

    /// Hex SHA-256. On every authenticated request, so the secret's UTF-8 is hashed in place, without a `Data` copy.
    public func digest(_ secret: String) -> String {
        var secret = secret
        return Hex.string(secret.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) })
    }
}
