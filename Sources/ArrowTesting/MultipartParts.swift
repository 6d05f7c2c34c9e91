import ArrowCore
import ArrowRegistry

/// Uploads the signed parts of a multipart session straight to the store, as a client would through the URLs (only
/// those numbered in `only`, if given). `bytes` is the whole file.
public func uploadParts(_ signed: ImageRegistry.SignedSession, bytes: [UInt8], blobs: any BlobStore, only: Set<Int>? = nil) async throws {
    let session = signed.session
    let upload = MultipartUpload(key: try BlobKey(session.storageKey), uploadID: session.storeUploadID)
    for part in signed.signedParts where only?.contains(part.number) ?? true {
        let start = Int(session.partSize) * (part.number - 1)
        let slice = Array(bytes[start..<(start + Int(part.size))])
        _ = try await blobs.uploadPart(upload, number: part.number, body: BlobBody(bytes: slice), length: part.size)
    }
}
