import ArrowCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local store's public area: `<root>/public/<key>`, served without credentials at `<baseURL>/downloads/<key>`.
/// A published copy is a hard link of the stored object (objects are never changed in place, only replaced by a
/// rename, so the link keeps exactly the published bytes), made under a temporary name and renamed into place.
extension LocalBlobStore: PublicDownloads {
    func publicPath(_ key: BlobKey) -> String { root + "/public/" + key.rawValue }

    public func publish(_ key: BlobKey, as publicKey: BlobKey) async throws -> String {
        let source = objectPath(key), target = publicPath(publicKey)
        try await POSIXFile.blocking {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let staging = target + ".publishing-" + UUID().uuidString
            guard link(source, staging) == 0 else {
                if errno == ENOENT { throw StorageError(.notFound, "No object \(key)") }
                throw POSIXFile.error("link", source)
            }
            guard rename(staging, target) == 0 else {
                unlink(staging)
                throw POSIXFile.error("rename", target)
            }
        }
        return presigner.baseURL + "/downloads/" + LocalPresigner.encodePath(publicKey.rawValue)
    }

    public func unpublish(_ publicKey: BlobKey) async throws {
        try await POSIXFile.remove(publicPath(publicKey))
    }

    public func getPublic(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody) {
        try await read(publicPath(key), key: key, range: range)
    }
}
