import ArrowCore
import Crypto
import Foundation

/// AWS Signature Version 4 for S3 (and B2's S3 API): header signing and presigned query signing.
///
/// S3 rules, which differ from other AWS services: every path segment is URI-encoded exactly once (no
/// normalisation, no double encoding), and a presigned URL's payload is `UNSIGNED-PAYLOAD`.
public struct SigV4Signer: Sendable {
    public struct Credentials: Sendable, Equatable {
        public var accessKeyID: String
        public var secretAccessKey: String

        public init(accessKeyID: String, secretAccessKey: String) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
        }
    }

    /// A request to sign: the path is the decoded path (`/bucket/my key.txt`), the query items decoded too.
    public struct Request: Sendable {
        public var method: String
        public var host: String
        public var path: String
        public var query: [(String, String)]
        public var headers: [(String, String)]

        public init(method: String, host: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = []) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
        }
    }

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// SigV4's cap on presigned URL lifetime: 7 days.
    public static let maxPresignExpiry = 604_800

    public let credentials: Credentials
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    // MARK: Header signing

    /// Signs `request` with headers: returns the headers to send, including `x-amz-date`,
    /// `x-amz-content-sha256` and `Authorization`.
    /// - Parameter payloadHash: hex SHA-256 of the body, or ``unsignedPayload``.
    public func signedHeaders(for request: Request, payloadHash: String, date: Date) -> [(String, String)] {
        let stamp = Self.timestamp(date)
        var headers = request.headers.filter { $0.0.lowercased() != "authorization" }
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { headers.append(("host", request.host)) }
        headers.append(("x-amz-date", stamp))
        headers.append(("x-amz-content-sha256", payloadHash))
        let (canonicalHeaders, signedNames) = Self.canonicalize(headers: headers)
        let canonical = [
            request.method, Self.canonicalURI(request.path), Self.canonicalQuery(request.query),
            canonicalHeaders, signedNames, payloadHash,
        ].joined(separator: "\n")
        let signature = sign(canonicalRequest: canonical, timestamp: stamp)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(stamp)), "
            + "SignedHeaders=\(signedNames), Signature=\(signature)"
        return headers.filter { $0.0.lowercased() != "host" } + [("Authorization", authorization)]
    }

    // MARK: Presigning

    /// A presigned URL's query string (already encoded), to append after `?` to the URL of `request`.
    /// Headers in `request.headers` are signed too and must be sent by whoever uses the URL.
    /// - Parameter expires: seconds, 1 to ``maxPresignExpiry``.
    public func presignedQuery(for request: Request, expires: Int, date: Date) -> String {
        let stamp = Self.timestamp(date)
        var headers = request.headers
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { headers.append(("host", request.host)) }
        let (canonicalHeaders, signedNames) = Self.canonicalize(headers: headers)
        var query = request.query
        query.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(stamp))"))
        query.append(("X-Amz-Date", stamp))
        query.append(("X-Amz-Expires", String(min(max(expires, 1), Self.maxPresignExpiry))))
        query.append(("X-Amz-SignedHeaders", signedNames))
        let canonicalQuery = Self.canonicalQuery(query)
        let canonical = [
            request.method, Self.canonicalURI(request.path), canonicalQuery, canonicalHeaders, signedNames, Self.unsignedPayload,
        ].joined(separator: "\n")
        return canonicalQuery + "&X-Amz-Signature=" + sign(canonicalRequest: canonical, timestamp: stamp)
    }

    // MARK: The algorithm

    func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The hex signature of a canonical request.
    func sign(canonicalRequest: String, timestamp: String) -> String {
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp, scope(timestamp), Hex.string(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [String(timestamp.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Hex.string(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    static func canonicalize(headers: [(String, String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(trimmed)
        }
        let names = merged.keys.sorted()
        let canonical = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// Each path segment encoded once; `/` kept.
    static func canonicalURI(_ path: String) -> String {
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
        return encoded.isEmpty ? "/" : encoded
    }

    static func canonicalQuery(_ items: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = items.map { (uriEncode($0.0), uriEncode($0.1)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair -> String in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// RFC 3986 encoding: unreserved characters kept, every other byte as `%XX` (upper-case hex).
    public static func uriEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// Hex SHA-256 of `data`, for `x-amz-content-sha256`.
    public static func payloadHash(_ data: some DataProtocol) -> String { Hex.string(SHA256.hash(data: data)) }
}

extension SigV4Signer.Credentials: RedactingReflection {
    public var shownFields: KeyValuePairs<String, Any> { ["accessKeyID": accessKeyID, "secretAccessKey": Redacted(secretAccessKey)] }
}
