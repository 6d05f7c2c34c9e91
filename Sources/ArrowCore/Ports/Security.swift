import Foundation

/// Password hashing (bcrypt in production). Implementations run the hash off the cooperative thread pool.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async throws -> Bool
}

/// Digests of token secrets, and generation of new secrets.
public protocol TokenSecrets: Sendable {
    /// A new secret with at least 256 random bits.
    func generate() -> String
    /// The stored form of a secret (hex SHA-256).
    func digest(_ secret: String) -> String
}

/// The time source, injectable so expiry and rate limits are testable.
public protocol Clock: Sendable {
    func now() -> Date
}

/// The system time, truncated to whole milliseconds: the precision the database keeps, so a value read back
/// equals the value written.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
