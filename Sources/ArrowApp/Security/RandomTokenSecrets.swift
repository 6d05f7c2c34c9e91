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

    /// Hex SHA-256. On every authenticated request, so the secret's UTF-8 is hashed in place and the digits are
    /// written straight into the string's storage: no `Data`, no byte array, no per-byte strings.
    public func digest(_ secret: String) -> String {
        var secret = secret
        let hash = secret.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return String(unsafeUninitializedCapacity: 2 * SHA256.byteCount) { out in
            var written = 0
            for byte in hash {
                out[written] = Self.hexDigit(byte >> 4)
                out[written + 1] = Self.hexDigit(byte & 0x0F)
                written += 2
            }
            return written
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x57 + nibble  // 0-9, a-f
    }
}
