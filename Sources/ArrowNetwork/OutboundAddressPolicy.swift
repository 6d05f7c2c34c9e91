import Foundation

/// A network: an address and a prefix length (`10.0.0.0/8`, `fd00::/8`; a bare address is one host).
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(numericHost: String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        guard let prefix = parts.count == 2 ? Int(parts[1]) : bits, (0...bits).contains(prefix) else { return nil }
        self.address = address
        self.prefix = prefix
    }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address.bytes, other.bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            guard a & mask == b & mask else { return false }
            remaining -= 8
        }
        return true
    }

    public var description: String { "\(address)/\(prefix)" }

    /// An item of a list that is not a network.
    public struct Invalid: Error, CustomStringConvertible {
        public let item: String
        public var description: String { "\(item) is not a network such as 10.0.0.0/8 or fd00::/8" }
    }

    /// `10.0.0.0/8, fd00::/8` (commas or spaces between), as operators write it in configuration.
    public static func list(_ text: String) throws(Invalid) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            guard let network = IPNetwork(String(item)) else { throw Invalid(item: String(item)) }
            networks.append(network)
        }
        return networks
    }
}

/// Which addresses this server may connect to on an organization's behalf: an organization admin names the URL, and a
/// URL that reached loopback, the cloud's metadata service or the data centre's network would let the admin read or
/// act inside it. Each connection resolves the host, is refused when **any** of its addresses is not permitted, and
/// connects to the address it checked — so a name that resolves to a permitted address when registered and to another
/// when used (DNS rebinding) reaches nothing.
public struct OutboundAddressPolicy: Sendable {
    /// Nil: connect wherever the URL points, unchecked.
    let resolver: (any HostResolver)?
    let permits: @Sendable (IPAddress) -> Bool
    /// Why an address is refused, for the person who registered the URL (the address itself is never named: that
    /// would tell an admin what this server's resolver knows of a private network).
    let refusal: String

    /// Webhooks: public addresses only.
    public static func publicOnly(resolver: any HostResolver = SystemHostResolver()) -> Self {
        Self(resolver: resolver, permits: { $0.isPublic },
             refusal: "webhook_private_address: the webhook's host resolves to a loopback, private or reserved address; webhooks go to the public internet")
    }

    /// Build servers (Proxmox VE nodes are usually on private networks): addresses in `networks`, or with none given,
    /// any address but a link-local one (where clouds answer their metadata service; no node lives there).
    public static func buildServers(networks: [IPNetwork], resolver: any HostResolver = SystemHostResolver()) -> Self {
        if networks.isEmpty {
            return Self(resolver: resolver, permits: { !$0.isLinkLocal },
                        refusal: "build_server_address_refused: the server's host resolves to a link-local address (a cloud's metadata service), which is never a build server")
        }
        return Self(resolver: resolver, permits: { address in networks.contains { $0.contains(address.embeddedV4.flatMap { IPAddress(bytes: $0) } ?? address) } },
                    refusal: "build_server_address_refused: the server's host resolves outside the networks build servers may be in (builds.servers.networks on the API server, --build-server-networks on builders)")
    }

    public static let anyAddress = Self(resolver: nil, permits: { _ in true }, refusal: "")

    /// For tests: resolve with `resolver`, permit what `permits` says.
    public static func checked(by resolver: any HostResolver, permitting permits: @escaping @Sendable (IPAddress) -> Bool) -> Self {
        Self(resolver: resolver, permits: permits, refusal: "address_refused: not permitted by the test's policy")
    }

    public enum Decision: Equatable, Sendable {
        /// Connect to this address (nil: resolve as usual).
        case connect(IPAddress?)
        /// The name did not resolve now: try again later.
        case unresolved(String)
        /// An address of the host is not permitted: never connect.
        case refused(String)
    }

    /// Where a connection to `url` may go.
    public func decide(url: String) async -> Decision {
        guard let resolver else { return .connect(nil) }
        guard let host = URL(string: url)?.host, !host.isEmpty else { return .refused("The URL has no host") }
        let addresses: [IPAddress]
        if let literal = IPAddress(numericHost: host) {
            addresses = [literal]
        } else {
            do { addresses = try await resolver.addresses(of: host) } catch { return .unresolved("The host name did not resolve") }
        }
        guard let first = addresses.first else { return .unresolved("The host name did not resolve") }
        if addresses.contains(where: { !permits($0) }) { return .refused(refusal) }
        return .connect(first)
    }
}
