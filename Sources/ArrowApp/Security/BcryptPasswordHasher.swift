import ArrowCore
import HummingbirdBcrypt
import NIOPosix

/// bcrypt (hummingbird-auth's implementation), run on NIO's blocking thread pool so a slow hash never stalls
/// the server's event loops or Swift's cooperative pool.
public struct BcryptPasswordHasher: PasswordHasher {
    public let cost: UInt8

    public init(cost: Int) {
        self.cost = UInt8(clamping: min(max(cost, 4), 31))
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
