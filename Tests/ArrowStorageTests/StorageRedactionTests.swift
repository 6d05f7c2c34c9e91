@testable import ArrowStorage
import ArrowTesting
import Foundation
import Logging
import Testing

/// The S3 secret and the local store's signing key never show when a store, its client or its configuration is
/// described (a service group dumps its services at debug level).
@Suite struct StorageRedactionTests {
    static func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), String(reflecting: value), dumped]
    }

    @Test func s3SecretNeverShows() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let configuration = S3Configuration(endpoint: "http://127.0.0.1:1", region: "us-east-1", bucket: "b", accessKeyID: "AKID", secretAccessKey: secret)
        let store = S3BlobStore(configuration: configuration, logger: .init(label: "t"))
        for value: Any in [configuration, store, SigV4Signer.Credentials(accessKeyID: "AKID", secretAccessKey: secret)] {
            for rendering in Self.renderings(value) {
                #expect(!rendering.contains(secret), "\(rendering.prefix(300))")
                #expect(rendering.contains("AKID"), "the key id is not a secret and still shows")
            }
        }
    }

    @Test func localSigningKeyNeverShows() throws {
        let key: [UInt8] = (0..<32).map { UInt8($0 &* 7 &+ 3) }
        let store = try LocalBlobStore(root: try TestPaths.temporaryDirectory(), baseURL: "http://127.0.0.1:1", secret: key)
        let spellings = [key.description, key.map(String.init).joined(separator: ", "), Data(key).base64EncodedString(),
                         key.map { String(format: "%02x", $0) }.joined()]
        for rendering in Self.renderings(store) {
            for spelling in spellings { #expect(!rendering.contains(spelling), "\(rendering.prefix(300))") }
        }
    }
}
