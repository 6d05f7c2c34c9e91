import ArrowCore
import ArrowRegistry
import Foundation
import Hummingbird

/// Thumbnails and metadata documents of an image.
struct MetadataFileController {
    let registry: ImageRegistry

    func register(on routes: APIRoutes) {
        routes.post("/api/vm_images/:image_id/metadata_files", .permission(.imageAdmin), use: add)
        routes.get("/api/vm_images/:image_id/metadata_files", .permission(.imageRead), use: list)
        routes.get("/api/vm_images/:image_id/metadata_files/:file_id", .permission(.imageRead), use: download)
        routes.delete("/api/vm_images/:image_id/metadata_files/:file_id", .permission(.imageAdmin), use: delete)
    }

    struct MetadataFileDTO: ResponseCodable {
        var id: String
        var imageId: String
        var kind: String
        var fileName: String
        var contentType: String
        var fileSize: Int64
        var sha256: String
        var b2FileId: String
        var createdAt: Date

        init(_ file: MetadataFile) {
            id = file.id.rawValue
            imageId = file.imageID.rawValue
            kind = file.kind.rawValue
            fileName = file.fileName
            contentType = file.contentType
            fileSize = file.fileSize
            sha256 = file.sha256
            b2FileId = file.storageKey
            createdAt = file.createdAt
        }
    }

    /// `multipart/form-data` with one `file` part: a PNG, JPEG or WebP thumbnail, or a .json / .yaml document.
    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<MetadataFileDTO> {
        let principal = try context.requirePrincipal()
        try principal.requireHuman()
        try principal.require(.imageAdmin)
        let maximum = registry.limits.metadataFile.upperBound
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > maximum + (64 << 10) {
            throw ArrowError(.payloadTooLarge, reason: "file_too_large", "Metadata files are at most \(maximum >> 20) MiB")
        }
        // The image must be the caller's to edit before any of the body is read.
        let imageID = try context.parameters.require("image_id")
        _ = try await registry.image(id: imageID, principal: principal, needing: .imageAdmin)
        let reader = try MultipartFormReader(request)
        while let part = try await reader.nextPart() {
            guard part.name == "file" else {
                throw ArrowError(.unprocessable, reason: "unknown_field", "Send one part named file")
            }
            guard let fileName = part.fileName else {
                throw ArrowError(.unprocessable, reason: "file_name_required", "The file part needs a filename")
            }
            let file = try await registry.addMetadataFile(
                imageID: imageID, fileName: fileName, body: reader.partBody, principal: principal)
            return EditedResponse(status: .created, response: MetadataFileDTO(file))
        }
        throw ArrowError(.unprocessable, reason: "file_required", "The form has no file part")
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse<MetadataFileDTO> {
        let files = try await registry.metadataFiles(imageID: try context.parameters.require("image_id"), principal: try context.requirePrincipal())
        return ListResponse(items: files.map(MetadataFileDTO.init))
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let url = try await registry.metadataFileURL(
            imageID: try context.parameters.require("image_id"), fileID: try context.parameters.require("file_id"),
            principal: try context.requirePrincipal())
        return Response(status: .found, headers: [.location: url.url, .cacheControl: "no-store"])
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await registry.deleteMetadataFile(
            imageID: try context.parameters.require("image_id"), fileID: try context.parameters.require("file_id"),
            principal: try context.requirePrincipal())
        return Response(status: .noContent)
    }
}
