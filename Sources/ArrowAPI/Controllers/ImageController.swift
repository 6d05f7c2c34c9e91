import ArrowCore
import ArrowRegistry
import Foundation
import HTTPTypes
import Hummingbird

/// The spec's image endpoints: the single upload, the collection, metadata, versions, deletion and downloads.
struct ImageController {
    let registry: ImageRegistry

    func register(on routes: APIRoutes) {
        routes.post("/api/vm_images/upload", .permission(.imageUpload), use: upload)
        routes.get("/api/vm_images", .permission(.imageRead), use: list)
        routes.get("/api/vm_images/:image_id", .permission(.imageRead), use: show)
        routes.patch("/api/vm_images/:image_id", .permission(.imageAdmin), use: update)
        routes.delete("/api/vm_images/:image_id", .permission(.imageAdmin), use: delete)
        routes.get("/api/vm_images/:image_id/versions", .permission(.imageRead), use: versions)
        routes.get("/api/vm_images/:image_id/download", .permission(.imageRead), use: download)
    }

    /// `multipart/form-data`: `file` (its filename is the image's `file_name`), `name`, optional `description`,
    /// `software`, `ansible_flags` (JSON), `sha256`, `previous_version_id`. Fields may come before or after the file.
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ImageDTO> {
        let principal = try context.requirePrincipal()
        // Refuse callers who may not upload before reading a byte of the body.
        try principal.requireHuman()
        try principal.require(.imageUpload)
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > registry.limits.single.upperBound + (1 << 20) {
            throw ArrowError(.payloadTooLarge, reason: "file_too_large",
                             "The upload is larger than the single-upload limit; use the multipart upload")
        }
        let reader = try MultipartFormReader(request)
        var fields = ImageUploadFields()
        while let part = try await reader.nextPart() {
            if part.name == "file" {
                guard let fileName = part.fileName else {
                    throw ArrowError(.unprocessable, reason: "file_name_required", "The file part needs a filename")
                }
                let ticket = try await registry.beginUpload(principal: principal, organization: fields.organizationID)
                let before = fields
                let image = try await registry.upload(
                    ticket, fileName: fileName, fileType: part.contentType, body: reader.partBody,
                    fields: { try await Self.remainingFields(reader, after: before) })
                return EditedResponse(status: .created, response: ImageDTO(image))
            }
            try fields.set(part.name, try await reader.text())
        }
        throw ArrowError(.unprocessable, reason: "file_required", "The form has no file part")
    }

    /// Reads the fields after the file part; a second file is refused.
    static func remainingFields(_ reader: MultipartFormReader, after fields: ImageUploadFields) async throws -> ImageUploadFields {
        var fields = fields
        while let part = try await reader.nextPart() {
            guard part.name != "file" else { throw ArrowError(.unprocessable, reason: "one_file_only", "Send one file per upload") }
            try fields.set(part.name, try await reader.text())
        }
        return fields
    }

    /// The caller's collection. `collection` narrows to custom, shared and/or public (comma-separated);
    /// `default=true` to the organization's defaults, in order.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse<ImageDTO> {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        var filter = CollectionFilter()
        if let status = query["status"].map(String.init) {
            guard let parsed = ImageStatus(rawValue: status) else {
                throw ArrowError(.invalidInput, reason: "invalid_filter", "status must be uploading, active or deleted")
            }
            filter.images.status = parsed
        }
        if let sources = query["collection"].map(String.init) {
            for name in sources.split(separator: ",") {
                guard let source = CollectionSource(rawValue: String(name)) else {
                    throw ArrowError(.invalidInput, reason: "invalid_filter", "collection must list custom, shared or public")
                }
                filter.sources.insert(source)
            }
        }
        filter.defaultsOnly = try QueryParameters.bool(query["default"].map(String.init), name: "default") ?? false
        if let format = query["format"].map(String.init) {
            guard ["iso", "qcow2", "vmdk", "vhd", "vhdx", "raw"].contains(format) else {
                throw ArrowError(.invalidInput, reason: "invalid_filter", "format must be iso, qcow2, vmdk, vhd, vhdx or raw")
            }
            filter.images.format = format
        }
        filter.images.nameContains = query["q"].map(String.init)
        filter.images.limit = try QueryParameters.integer(query["limit"].map(String.init), name: "limit", in: 1...500) ?? 100
        filter.images.offset = try QueryParameters.integer(query["offset"].map(String.init), name: "offset", in: 0...Int(Int32.max)) ?? 0
        let entries = try await registry.collection(principal: principal, organization: query["organization_id"].map(String.init), filter: filter)
        return ListResponse(items: entries.map(ImageDTO.init))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> ImageDTO {
        ImageDTO(try await registry.entry(id: try imageID(context), principal: try context.requirePrincipal()))
    }

    @Sendable func versions(_ request: Request, context: AppRequestContext) async throws -> ListResponse<ImageDTO> {
        let chain = try await registry.versions(id: try imageID(context), principal: try context.requirePrincipal())
        return ListResponse(items: chain.map(ImageDTO.init))
    }

    /// JSON `{name?, description?, software?, ansible_flags?}`; unknown keys are refused.
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> ImageDTO {
        let principal = try context.requirePrincipal()
        let fields = try ImageFieldsJSON.fields(try await JSONRequestBody.object(request), allowed: ImageFieldsJSON.metadataKeys)
        return ImageDTO(try await registry.update(id: try imageID(context), fields: fields, principal: principal))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await registry.delete(id: try imageID(context), principal: try context.requirePrincipal())
        return Response(status: .noContent)
    }

    /// A redirect to a short-lived URL: the bucket on B2/S3, or this server's signed storage path locally, which
    /// streams and honours `Range`.
    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let url = try await registry.downloadURL(id: try imageID(context), principal: try context.requirePrincipal())
        return Response(status: .found, headers: [.location: url.url, .cacheControl: "no-store"])
    }

    private func imageID(_ context: AppRequestContext) throws -> String {
        try context.parameters.require("image_id")
    }
}
