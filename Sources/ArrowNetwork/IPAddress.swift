import Foundation

/// An IPv4 or IPv6 address: whether it is on the public internet (where webhooks may go) or link-local (where no build
/// server is), judged by ``OutboundAddressPolicy`` before this server connects anywhere on an organization's behalf.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// A numeric host in every form the system's resolver takes as one — dotted quads, but also `127.1`,
    /// `2130706433`, `0x7f.0.0.1` and octal `0177.0.0.1` (inet_aton's forms, which `getaddrinfo` accepts and
    /// `inet_pton` refuses), IPv6 with or without brackets or a zone. Nil for a name.
    public init?(numericHost text: String) {
        let host = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard !host.isEmpty, getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        guard let address = Self(first.pointee) else { return nil }
        self = address
    }

    /// The address of one `getaddrinfo` result.
    init?(_ info: addrinfo) {
        guard let socket = info.ai_addr else { return nil }
        switch info.ai_family {
        case AF_INET:
            let v4 = socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            self.init(bytes: withUnsafeBytes(of: v4) { Array($0) })
        case AF_INET6:
            let v6 = socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            self.init(bytes: withUnsafeBytes(of: v6) { Array($0) })
        default:
            return nil
        }
    }

    /// The canonical text (`inet_ntop`), which is what a connection is pinned to.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(cString: buffer)
    }

    /// Whether the address is on the public internet: IPv4 outside every special-purpose range (RFC 6890 and its
    /// updates), IPv6 in global unicast (2000::/3) outside documentation and protocol blocks. An IPv6 address that
    /// carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by the address it carries, since that is
    /// where a packet would go.
    public var isPublic: Bool {
        if bytes.count == 4 { return Self.isPublicV4(bytes) }
        if let embedded = embeddedV4 { return Self.isPublicV4(embedded) }
        guard bytes[0] & 0xe0 == 0x20 else { return false }                      // outside 2000::/3
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8 { return false }  // 2001:db8::/32
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] < 0x02 { return false }  // 2001::/23 (Teredo, ORCHID, …)
        return true
    }

    /// 169.254.0.0/16 and fe80::/10 (an IPv4 address inside IPv6 judged as itself).
    public var isLinkLocal: Bool {
        let v4 = bytes.count == 4 ? bytes : embeddedV4
        if let v4 { return v4[0] == 169 && v4[1] == 254 }
        return bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80
    }

    /// The IPv4 address inside ::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d and 2002:aabb:ccdd::/48.
    var embeddedV4: [UInt8]? {
        guard bytes.count == 16 else { return nil }
        let zeroTo = { (end: Int) in self.bytes[0..<end].allSatisfy { $0 == 0 } }
        if zeroTo(10) && bytes[10] == 0xff && bytes[11] == 0xff { return Array(bytes[12..<16]) }
        if zeroTo(12) && !(zeroTo(15) && bytes[15] <= 1) { return Array(bytes[12..<16]) }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return Array(bytes[12..<16]) }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return Array(bytes[2..<6]) }
        return nil
    }

    static func isPublicV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1], b[2]) {
        case (0, _, _), (10, _, _), (127, _, _), (169, 254, _), (192, 168, _): return false
        case (172, 16...31, _), (100, 64...127, _), (198, 18...19, _): return false
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (198, 51, 100), (203, 0, 113): return false
        case (224...255, _, _): return false                                        // multicast, reserved, broadcast
        default: return true
        }
    }
}

/// Resolves a host name to its addresses, as a connection to it would.
public protocol HostResolver: Sendable {
    func addresses(of host: String) async throws -> [IPAddress]
}

/// `getaddrinfo`, on a thread of its own (it blocks, sometimes for seconds, and the cooperative pool is small).
public struct SystemHostResolver: HostResolver {
    public init() {}

    public struct Failure: Error { public let code: Int32 }

    public func addresses(of host: String) async throws -> [IPAddress] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &list)
                guard status == 0 else { return continuation.resume(throwing: Failure(code: status)) }
                defer { freeaddrinfo(list) }
                var found: [IPAddress] = []
                var next = list
                while let entry = next {
                    if let address = IPAddress(entry.pointee), !found.contains(address) { found.append(address) }
                    next = entry.pointee.ai_next
                }
                continuation.resume(returning: found)
            }
        }
    }
}
