import ArrowCore
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
    }
}
