import ArrowCore
import ArrowStorage
import Foundation
import Logging
import Testing

/// AWS's published S3 SigV4 examples (`shared/reference/external-apis.md` §4.2).
@Suite struct SigV4SignerTests {
    let signer = SigV4Signer(
        credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    let host = "examplebucket.s3.amazonaws.com"

    func signature(_ headers: [(String, String)]) -> String? {
        headers.first { $0.0 == "Authorization" }?.1.components(separatedBy: "Signature=").last
    }

    @Test func presignedGetMatchesAWS() {
        let query = signer.presignedQuery(for: .init(method: "GET", host: host, path: "/test.txt"), expires: 86400, date: date)
        #expect(query.hasSuffix("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(query.contains("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"))
        #expect(query.contains("X-Amz-Expires=86400"))
    }

    @Test func headerSignedRangeGetMatchesAWS() {
        let headers = signer.signedHeaders(
            for: .init(method: "GET", host: host, path: "/test.txt", headers: [("Range", "bytes=0-9")]),
            payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(signature(headers) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.first { $0.0 == "Authorization" }?.1.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date") == true)
    }

    @Test func putWithSpecialCharactersMatchesAWS() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let headers = signer.signedHeaders(
            for: .init(method: "PUT", host: host, path: "/test$file.text",
                       headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")]),
            payloadHash: SigV4Signer.payloadHash(body), date: date)
        #expect(signature(headers) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func subresourceAndListQueriesMatchAWS() {
        let lifecycle = signer.signedHeaders(
            for: .init(method: "GET", host: host, path: "/", query: [("lifecycle", "")]),
            payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(signature(lifecycle) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        let list = signer.signedHeaders(
            for: .init(method: "GET", host: host, path: "/", query: [("prefix", "J"), ("max-keys", "2")]),
            payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(signature(list) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func uriEncodingFollowsS3() {
        #expect(SigV4Signer.uriEncode("a b+c$d/é~") == "a%20b%2Bc%24d%2F%C3%A9~")
    }

    @Test func aWrongSecretGivesADifferentSignature() {
        let wrong = SigV4Signer(credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wrong"), region: "us-east-1")
        let query = wrong.presignedQuery(for: .init(method: "GET", host: host, path: "/test.txt"), expires: 86400, date: date)
        #expect(!query.hasSuffix("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
    }
}

@Suite struct S3ConfigurationTests {
    @Test func partSizesKeepEveryObjectWithinTenThousandParts() {
        let mib: Int64 = 1 << 20
        #expect(S3Configuration.partSize(for: 0) == 8 * mib)
        #expect(S3Configuration.partSize(for: 10 * 1024 * mib) == 8 * mib)
        for size: Int64 in [80 * 1024 * mib, 1 << 40, 10 << 40] {
            let part = S3Configuration.partSize(for: size)
            #expect((size + part - 1) / part <= 10_000)
            #expect(part % mib == 0 && part >= 5 * mib)
        }
    }
}

@Suite struct S3AddressingTests {
    func store(pathStyle: Bool) -> S3BlobStore {
        S3BlobStore(configuration: S3Configuration(
            endpoint: "https://s3.us-west-004.backblazeb2.com", region: "us-west-004", bucket: "arrow-images",
            publicBucket: "arrow-public", accessKeyID: "k", secretAccessKey: "s", pathStyle: pathStyle), logger: .init(label: "t"))
    }

    @Test func pathStyleAndVirtualHostStylePresignTheRightHostAndPath() throws {
        let key = try ArrowCore.BlobKey("images/i1/disk 1.qcow2")
        let path = try store(pathStyle: true).presignGet(key, expiresIn: 60).url
        #expect(path.hasPrefix("https://s3.us-west-004.backblazeb2.com/arrow-images/images/i1/disk%201.qcow2?"))
        let virtual = try store(pathStyle: false).presignGet(key, expiresIn: 60).url
        #expect(virtual.hasPrefix("https://arrow-images.s3.us-west-004.backblazeb2.com/images/i1/disk%201.qcow2?"))
        #expect(virtual.contains("us-west-004%2Fs3%2Faws4_request"))
    }

    @Test func publicURLsUseThePublicBucket() throws {
        let key = try ArrowCore.BlobKey("images/i1/debian.iso")
        #expect(store(pathStyle: true).publicURL(for: key) == "https://s3.us-west-004.backblazeb2.com/arrow-public/images/i1/debian.iso")
        #expect(store(pathStyle: false).publicURL(for: key) == "https://arrow-public.s3.us-west-004.backblazeb2.com/images/i1/debian.iso")
    }

    @Test func presignExpiryIsCappedAtSevenDays() throws {
        let upload = ArrowCore.MultipartUpload(key: try ArrowCore.BlobKey("a"), uploadID: "u1")
        let url = try store(pathStyle: true).presignUploadPart(upload, number: 1, expiresIn: 30 * 86400, contentLength: 5).url
        #expect(url.contains("X-Amz-Expires=604800"))
        #expect(url.contains("X-Amz-SignedHeaders=content-length%3Bhost"))
    }
}
