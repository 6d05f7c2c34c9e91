import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A pinned certificate fingerprint (the SHA-256 PVE shows under Node → Certificates, hex, colons optional): before
/// the client trusts anything, one TLS handshake reads the certificate the node presents and compares its SHA-256
/// with the pin; the client then trusts exactly that certificate and nothing else (a self-signed certificate, as a
/// node's own `pveproxy-ssl.pem` often is). A certificate signed by a CA — PVE's default, signed by the cluster's
/// `pve-root-ca.pem` — cannot be trusted on its own by the TLS library: for those, give the CA certificate instead.
public enum CertificatePin {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `AA:BB:…` or `aabb…`, 64 hex digits; nil when it is not one.
    public static func normalize(_ fingerprint: String) -> String? {
        let hex = fingerprint.lowercased().filter { $0 != ":" }
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit) ? hex : nil
    }

    /// The PEM of the certificate `url`'s server presents, when its SHA-256 is `fingerprint`.
    public static func fetch(url: String, fingerprint: String, connectTo: String? = nil) async throws -> String {
        guard let pin = normalize(fingerprint) else { throw Failure(description: "the fingerprint is not a SHA-256 (64 hex digits, colons allowed)") }
        guard let components = URLComponents(string: url), components.scheme == "https", let host = components.host else {
            throw Failure(description: "a pinned fingerprint needs an https URL")
        }
        let port = components.port ?? 8006
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let presented = group.next().makePromise(of: [NIOSSLCertificate].self)
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(10)).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: Self.isAddress(host) ? nil : host) { certificates, verdict in
                    presented.succeed(certificates)
                    // Nothing is sent on this connection: it exists to read the certificate.
                    verdict.succeed(.certificateVerified)
                }
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: connectTo ?? host, port: port).get()
        } catch {
            presented.fail(error)
            throw Failure(description: "\(host):\(port) could not be reached: \(error)")
        }
        defer { channel.close(promise: nil) }
        let certificates = try await withThrowingTaskGroup(of: [NIOSSLCertificate].self) { group in
            group.addTask { try await presented.futureResult.get() }
            group.addTask {
                try await Task.sleep(for: .seconds(15))
                throw Failure(description: "\(host):\(port) did not complete a TLS handshake")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard let leaf = certificates.first else { throw Failure(description: "\(host):\(port) presented no certificate") }
        let digest = SHA256.hash(data: try leaf.toDERBytes()).map { String(format: "%02x", $0) }.joined()
        guard digest == pin else {
            throw Failure(description: "\(host):\(port) presented a certificate whose SHA-256 is \(digest), not the pinned one: refusing to connect")
        }
        return pem(try leaf.toDERBytes())
    }

    static func pem(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [String] = []
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
    }

    static func isAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}
