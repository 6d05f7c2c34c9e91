import Foundation

/// Lower-case hexadecimal, as the API shows digests and as SigV4 signs them. Written straight into the string's
/// storage, with no byte array or per-byte strings in between: token digests are formatted on every authenticated
/// request and signatures on every S3 request.
public enum Hex {
    /// The ASCII digit of a nibble (0–15): `0`–`9`, `a`–`f`.
    @inlinable
    public static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }

    /// Two digits per byte: digests, MACs, `Data`, byte arrays.
    public static func string(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: 2 * raw.count) { out in
                for (index, byte) in raw.enumerated() {
                    out[2 * index] = digit(byte >> 4)
                    out[2 * index + 1] = digit(byte & 0x0F)
                }
                return 2 * raw.count
            }
        }
    }

    /// `byteCount` bytes from the system's secure generator, as hex: lease tokens, webhook secrets.
    public static func random(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return string((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
