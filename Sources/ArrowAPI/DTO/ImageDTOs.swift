import ArrowCore
import ArrowRegistry
import Foundation
import Hummingbird

/// An image as the API shows it: the spec's metadata fields (`b2_file_id` is the storage reference) plus what
/// inspection established.
struct ImageDTO: ResponseCodable {
    var id: String
    var name: String
    var description: String?
    var fileName: String
    var fileSize: Int64
    var fileType: String
    var b2FileId: String
    var organization: String
    var software: [SoftwareEntry]
    var ansibleFlags: [String: Bool]
    var format: String
    var virtualSize: Int64
    var sha256: String
    var status: String
    var version: Int
    var previousVersionId: String?
    var createdAt: Date
    var updatedAt: Date
    /// Made public by a superuser.
    var `public`: Bool
    /// The stable public download URL, when the image is published (`PUT /api/vm_images/{id}/download`).
    var downloadUrl: String?
    /// Why the image is in the caller's collection: custom, shared or public (collection views only).
    var collection: String?
    /// Its place among the organization's default images, when it is one.
    var defaultPosition: Int?

    init(_ entry: CollectionEntry) {
        self.init(entry.image)
        collection = entry.source.rawValue
        defaultPosition = entry.defaultPosition
    }

    init(_ image: Image) {
        id = image.id.rawValue
        name = image.name
        description = image.description
        fileName = image.fileName
        fileSize = image.fileSize
        fileType = image.fileType
        b2FileId = image.storageKey
        organization = image.organizationID.rawValue
        software = image.software
        ansibleFlags = image.ansibleFlags.all
        format = image.format
        virtualSize = image.virtualSize
        sha256 = image.sha256
        status = image.status.rawValue
        version = image.version
        previousVersionId = image.previousVersionID?.rawValue
        createdAt = image.createdAt
        updatedAt = image.updatedAt
        `public` = image.isPublic
        downloadUrl = image.downloadURL
    }
}

/// A multipart upload session: its parts already stored, and fresh URLs for the parts to send.
struct UploadSessionDTO: ResponseCodable {
    struct Part: Codable {
        var partNumber: Int
        var size: Int64
        var etag: String?
        var method: String?
        var url: String?
        /// Headers to send exactly as given (they are signed).
        var headers: [String: String]?
        var expiresAt: Date?
    }

    var uploadId: String
    var imageId: String
    var status: String
    var fileName: String
    var fileSize: Int64
    var partSize: Int64
    var partCount: Int
    var parallelParts: Int
    var expiresAt: Date
    var uploadedParts: [Part]
    var parts: [Part]

    init(_ signed: ImageRegistry.SignedSession) {
        let session = signed.session
        uploadId = session.id.rawValue
        imageId = session.imageID.rawValue
        status = session.status.rawValue
        fileName = session.fileName
        fileSize = session.fileSize
        partSize = session.partSize
        partCount = session.partCount
        parallelParts = signed.parallelParts
        expiresAt = session.expiresAt
        uploadedParts = signed.uploadedParts.map { Part(partNumber: $0.number, size: $0.size, etag: $0.etag) }
        parts = signed.signedParts.map {
            Part(partNumber: $0.number, size: $0.size, method: $0.request.method, url: $0.request.url,
                 headers: $0.request.headers, expiresAt: $0.request.expiresAt)
        }
    }
}

/// Image fields sent as JSON (`PATCH /api/vm_images/{id}`, the multipart sign step): `software` and `ansible_flags`
/// as JSON values, the rest as strings; keys outside `allowed` are refused.
enum ImageFieldsJSON {
    static let metadataKeys: Set<String> = ["name", "description", "software", "ansible_flags"]

    static func fields(_ object: [String: Any], allowed: Set<String>) throws -> ImageUploadFields {
        var fields = ImageUploadFields()
        for (key, value) in object {
            guard allowed.contains(key) else { throw ArrowError(.unprocessable, reason: "unknown_field", "Unknown field \(key)") }
            if key == "software" || key == "ansible_flags", JSONSerialization.isValidJSONObject(value) {
                try fields.set(key, String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self))
            } else if let text = value as? String, key != "software", key != "ansible_flags" {
                try fields.set(key, text)
            } else {
                throw ArrowError(.unprocessable, reason: "invalid_\(key)", "\(key) has the wrong type")
            }
        }
        return fields
    }
}
