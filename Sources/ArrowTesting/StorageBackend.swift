import ArrowCore
import ArrowStorage
import Foundation
import Logging

/// The object stores every storage contract test runs against. S3 is moto_server on loopback, started by
/// `scripts/test.sh`, with signature checking on; without its variables the S3 cases fail and say so.
public enum StorageBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case local
    case s3

    public var description: String { rawValue }

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "ARROW_TEST_S3_ENDPOINT/KEY_ID/SECRET are not set: run the suite with scripts/test.sh, which starts moto_server"
        }
    }

    /// A store on a fresh root (local) or the shared test bucket (S3); tests use unique key prefixes.
    public func makeStore(secret: String? = nil) throws -> any BlobStore {
        switch self {
        case .local:
            let dir = try TestPaths.temporaryDirectory()
            return try LocalBlobStore(root: dir + "/storage", baseURL: "http://127.0.0.1:1", secret: Array(repeating: 7, count: 32))
        case .s3:
            return S3BlobStore(configuration: try Self.s3Configuration(secret: secret), logger: Logger(label: "test"))
        }
    }

    /// The signature-checking moto; `secret` overrides the real one (to prove a wrong one fails).
    public static func s3Configuration(secret: String? = nil, endpointVariable: String = "ARROW_TEST_S3_ENDPOINT") throws -> S3Configuration {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env[endpointVariable], let keyID = env["ARROW_TEST_S3_KEY_ID"], let real = env["ARROW_TEST_S3_SECRET"] else {
            throw NotConfigured()
        }
        return S3Configuration(endpoint: endpoint, region: "us-east-1", bucket: "arrow-test", publicBucket: "arrow-public",
                               accessKeyID: keyID, secretAccessKey: secret ?? real)
    }

    /// The moto without auth, which serves presigned URLs.
    public static func presignStore() throws -> S3BlobStore {
        S3BlobStore(configuration: try s3Configuration(endpointVariable: "ARROW_TEST_S3_PRESIGN_ENDPOINT"), logger: Logger(label: "test"))
    }
}

/// Deterministic test bytes.
public func testBytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}
