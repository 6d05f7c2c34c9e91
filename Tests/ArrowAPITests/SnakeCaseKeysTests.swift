@testable import ArrowAPI
import Foundation
import Testing

@Suite struct SnakeCaseKeysTests {
    struct Sample: Encodable {
        var fileName = 1, fileSize = 2, b2FileId = 3, previousVersionId = 4, createdAt = 5, defaultPosition = 6
        var uploadId = 7, partNumber = 8, tokenId = 9, organizationId = 10, imageID = 11, urlString = 12, a = 13
        var virtualSize = 14, ansibleFlags = 15, x509Name = 16, kind = 17, `public` = 18, sha256 = 19, httpStatusCode = 20, lastHTTPCode = 21
    }

    /// The remembered conversion writes exactly what Foundation's `.convertToSnakeCase` writes for Swift property names
    /// (lower-case first; Foundation splits a leading upper-case run oddly, `URLString` → `u_rl_string`).
    @Test func matchesFoundationForIdentifiers() throws {
        let foundation = JSONEncoder()
        foundation.keyEncodingStrategy = .convertToSnakeCase
        foundation.outputFormatting = [.sortedKeys]
        for _ in 0..<2 {  // the second round comes from the cache
            let ours = String(decoding: try APIJSON.encoder().encode(Sample()), as: UTF8.self)
            let theirs = String(decoding: try foundation.encode(Sample()), as: UTF8.self)
            #expect(ours == theirs, "\(ours)\n\(theirs)")
        }
    }

    /// Dictionary keys that are not identifiers (header names, flag names) are left alone.
    @Test func leavesOtherKeysAlone() throws {
        let text = String(decoding: try APIJSON.encoder().encode(["Content-Length": 1, "install_vpn": 2]), as: UTF8.self)
        #expect(text == #"{"Content-Length":1,"install_vpn":2}"#)
    }
}
