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

    /// Hex SHA-256. On every authenticated request, so it formats with a table instead of per-byte strings.
    public func digest(_ secret: String) -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
