import ArrowCore
import Crypto
import Foundation

/// Metadata files: thumbnails and metadata documents attached to an image (1 KiB to 10 MiB, content-checked),
/// stored under `metadata/<image id>/`.
extension ImageRegistry {
    public static let maximumMetadataFiles = 20

    /// Reads the file (bounded by the limit: 413 as soon as it is passed), checks what it is, and stores it.
    public func addMetadataFile(imageID: String, fileName rawFileName: String, body: BlobBody, principal: Principal) async throws -> MetadataFile {
        try principal.require(.imageAdmin)
        let image = try await image(id: imageID, principal: principal, needing: .imageAdmin)
        guard image.status == .active else { throw ArrowError(.conflict, reason: "image_not_active", "The image is not active") }
        let fileName = try Self.validate(fileName: rawFileName)
        let maximum = limits.metadataFile.upperBound
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= maximum else {
                throw ArrowError(.payloadTooLarge, reason: "file_too_large", "Metadata files are at most \(UploadLimits.describe(maximum))")
            }
            bytes += chunk
        }
        try checkMinimum(size: Int64(bytes.count), limits.metadataFile.lowerBound)
        let verdict = try MetadataContent.check(bytes, fileName: fileName)
        guard try await repos.metadataFiles.list(image: image.id).count < Self.maximumMetadataFiles else {
            throw ArrowError(.conflict, reason: "too_many_metadata_files", "An image has at most \(Self.maximumMetadataFiles) metadata files")
        }
        let id = MetadataFileID.generate()
        let key = try StorageLayout.metadata(imageID: image.id.rawValue, file: "\(id.rawValue)-\(fileName)")
        let file = MetadataFile(
            id: id, imageID: image.id, organizationID: image.organizationID, kind: verdict.kind, fileName: fileName,
            contentType: verdict.contentType, fileSize: Int64(bytes.count), sha256: Hex.string(SHA256.hash(data: bytes)),
            storageKey: key.rawValue, createdBy: principal.user.id, createdAt: clock.now())
        try await blobs.put(key, body: BlobBody(bytes: bytes), length: Int64(bytes.count))
        do {
            try await store.transaction { repos in
                try await repos.metadataFiles.create(file)
                try await repos.audit.append(AuditEvent(
                    organizationID: image.organizationID, actorID: principal.user.id, action: .imageUpdated, target: image.id.rawValue,
                    details: ["metadata_file": file.id.rawValue, "kind": file.kind.rawValue], createdAt: file.createdAt))
            }
        } catch {
            try? await removeObject(key.rawValue)
            throw error
        }
        return file
    }

    /// The metadata files of an image in the caller's collection.
    public func metadataFiles(imageID: String, principal: Principal) async throws -> [MetadataFile] {
        let entry = try await entry(id: imageID, principal: principal)
        return try await repos.metadataFiles.list(image: entry.image.id)
    }

    /// A short-lived URL to one metadata file.
    public func metadataFileURL(imageID: String, fileID: String, principal: Principal) async throws -> PresignedRequest {
        let entry = try await entry(id: imageID, principal: principal)
        guard let file = try await repos.metadataFiles.find(id: MetadataFileID(fileID), image: entry.image.id) else {
            throw ArrowError.notFound("Metadata file")
        }
        return try blobs.presignGet(try BlobKey(file.storageKey), expiresIn: 300)
    }

    public func deleteMetadataFile(imageID: String, fileID: String, principal: Principal) async throws {
        try principal.require(.imageAdmin)
        let image = try await image(id: imageID, principal: principal, needing: .imageAdmin)
        guard let file = try await repos.metadataFiles.find(id: MetadataFileID(fileID), image: image.id) else {
            throw ArrowError.notFound("Metadata file")
        }
        _ = try await repos.metadataFiles.delete(id: file.id)
        try await removeObject(file.storageKey)
    }
}
