import Foundation

public enum MetadataFileTag {}
public typealias MetadataFileID = Identifier<MetadataFileTag>

/// A thumbnail or metadata document attached to an image, stored under `metadata/`.
public struct MetadataFile: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case thumbnail, document
    }

    public var id: MetadataFileID
    public var imageID: ImageID
    public var organizationID: OrganizationID
    public var kind: Kind
    public var fileName: String
    /// What the content check found: image/png, image/jpeg, image/webp, application/json or application/yaml.
    public var contentType: String
    public var fileSize: Int64
    public var sha256: String
    public var storageKey: String
    public var createdBy: UserID?
    public var createdAt: Date

    public init(
        id: MetadataFileID, imageID: ImageID, organizationID: OrganizationID, kind: Kind, fileName: String, contentType: String,
        fileSize: Int64, sha256: String, storageKey: String, createdBy: UserID?, createdAt: Date
    ) {
        self.id = id
        self.imageID = imageID
        self.organizationID = organizationID
        self.kind = kind
        self.fileName = fileName
        self.contentType = contentType
        self.fileSize = fileSize
        self.sha256 = sha256
        self.storageKey = storageKey
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// Metadata files, scoped by organization in the query.
public protocol MetadataFileRepository: Sendable {
    func create(_ file: MetadataFile) async throws
    /// The image's files, oldest first.
    func list(image: ImageID) async throws -> [MetadataFile]
    func find(id: MetadataFileID, image: ImageID) async throws -> MetadataFile?
    /// False when it was not there.
    func delete(id: MetadataFileID) async throws -> Bool
}
