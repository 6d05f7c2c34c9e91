import ArrowCore
import Crypto
import Foundation

/// Presigned URLs for the local store, served by the API server itself.
///
/// The signature is HMAC-SHA256 over the method, the path, the expiry and the allowed content length, under a
/// secret generated at first start and kept in the data directory: change any of them and the URL is refused.
public struct LocalPresigner: Sendable {
    let baseURL: String
    let key: SigningKey

    init(baseURL: String, secret: [UInt8], secretFile: String? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = SigningKey(secret, file: secretFile)
    }

    static func secretPath(in directory: String) -> String { directory + "/storage.secret" }

    /// Reads the presign secret from `<directory>/storage.secret`, creating it (32 random bytes, mode 0600) once.
    public static func loadOrCreateSecret(in directory: String) throws -> [UInt8] {
        try loadOrCreateKey(at: secretPath(in: directory))
    }

    /// Reads 32 key bytes from `path`, creating the file (random bytes, mode 0600) when there is none; of two
    /// processes creating it at once, both end up with the one that landed first.
    public static func loadOrCreateKey(at path: String) throws -> [UInt8] {
        let directory = (path as NSString).deletingLastPathComponent
        if let data = FileManager.default.contents(atPath: path), data.count == 32 { return [UInt8](data) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bytes = randomSecret()
        let temporary = try writeTemporary(bytes, beside: path)
        // Another process may have won the race: keep whichever secret landed first.
        if link(temporary, path) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
                throw StorageError(.internal, "Cannot read \(path)")
            }
            return [UInt8](data)
        }
        try? FileManager.default.removeItem(atPath: temporary)
        return bytes
    }

    /// Replaces the presign secret with a new random one (`arrow storage rotate-secret`): every URL signed with the
    /// old one stops working, in running servers too (they re-read the file within a second).
    public static func rotateSecret(in directory: String) throws {
        let path = secretPath(in: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = try writeTemporary(randomSecret(), beside: path)
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw StorageError(.internal, "Cannot replace \(path)")
        }
    }

    private static func randomSecret() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    private static func writeTemporary(_ bytes: [UInt8], beside path: String) throws -> String {
        let temporary = path + ".\(UUID().uuidString).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw StorageError(.internal, "Cannot write \(path)")
        }
        return temporary
    }

    func presign(method: String, path: String, expiresIn: TimeInterval, contentLength: Int64?) -> PresignedRequest {
        let expires = Int64(Date().timeIntervalSince1970 + max(1, min(expiresIn, 7 * 86400)))
        var query = "expires=\(expires)"
        if let contentLength { query += "&length=\(contentLength)" }
        query += "&signature=" + signature(method: method, path: path, expires: expires, length: contentLength)
        var headers: [String: String] = [:]
        if let contentLength { headers["Content-Length"] = String(contentLength) }
        return PresignedRequest(method: method, url: baseURL + path + "?" + query, headers: headers,
                                expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
    }

    func verify(method: String, path: String, query: [String: String], contentLength: Int64?) throws -> SignedStorageTarget {
        guard let expiresText = query["expires"], let expires = Int64(expiresText), let given = query["signature"] else {
            throw StorageError(.invalidSignature, "Not a presigned URL")
        }
        let length = query["length"].flatMap { Int64($0) }
        if query["length"] != nil && length == nil { throw StorageError(.invalidSignature, "Malformed length") }
        let expected = signature(method: method, path: path, expires: expires, length: length)
        // Constant-time comparison.
        guard given.utf8.count == expected.utf8.count,
              zip(given.utf8, expected.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
        else { throw StorageError(.invalidSignature, "The signature does not match") }
        guard Int64(Date().timeIntervalSince1970) <= expires else { throw StorageError(.expired, "The presigned URL has expired") }
        if let length, contentLength != length {
            throw StorageError(.lengthMismatch, "This URL accepts exactly \(length) bytes")
        }
        return try Self.target(of: path)
    }

    static func target(of path: String) throws -> SignedStorageTarget {
        if path.hasPrefix("/api/storage/objects/") {
            let encoded = String(path.dropFirst("/api/storage/objects/".count))
            guard let decoded = encoded.removingPercentEncoding else { throw StorageError(.invalidKey, "Malformed key") }
            return .object(try BlobKey(decoded))
        }
        let parts = path.split(separator: "/")
        if parts.count == 5, parts[0] == "api", parts[1] == "storage", parts[2] == "uploads", let number = Int(parts[4]) {
            return .part(uploadID: String(parts[3]), number: number)
        }
        throw StorageError(.notFound, "No such storage path")
    }

    func signature(method: String, path: String, expires: Int64, length: Int64?) -> String {
        let message = "\(method)\n\(path)\n\(expires)\n\(length.map(String.init) ?? "-")"
        return Hex.string(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key.current())))
    }

    /// Percent-encodes each path segment of a key (as in S3), keeping `/`.
    static func encodePath(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { SigV4Signer.uriEncode(String($0)) }.joined(separator: "/")
    }
}
