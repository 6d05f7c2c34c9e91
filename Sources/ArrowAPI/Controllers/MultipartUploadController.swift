import ArrowCore
import ArrowRegistry
import Foundation
import Hummingbird

/// The resumable multipart upload: sign (start, or re-sign missing parts), status, abort, complete.
struct MultipartUploadController {
    let registry: ImageRegistry

    func register(on routes: APIRoutes) {
        routes.post("/api/vm_images/upload/sign", .permission(.imageUpload), use: sign)
        routes.post("/api/vm_images/upload/complete", .permission(.imageUpload), use: complete)
        routes.get("/api/vm_images/upload/:upload_id", .permission(.imageUpload), use: status)
        routes.delete("/api/vm_images/upload/:upload_id", .permission(.imageUpload), use: abort)
    }

    /// Refuses callers who may not upload before the body is read.
    static func uploader(_ context: AppRequestContext) throws -> Principal {
        let principal = try context.requirePrincipal()
        try principal.requireHuman()
        try principal.require(.imageUpload)
        return principal
    }

    static let fieldKeys = ImageFieldsJSON.metadataKeys.union(["sha256", "previous_version_id", "organization_id"])

    /// Without `upload_id`: starts a session (`file_name`, `file_size`, optional `file_type`, and the upload's fields).
    /// With `upload_id`: fresh URLs for `part_numbers`, or for every part not stored yet.
    @Sendable func sign(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<UploadSessionDTO> {
        let principal = try Self.uploader(context)
        var object = try await JSONRequestBody.object(request)
        if let id = object.removeValue(forKey: "upload_id") {
            guard let id = id as? String else { throw ArrowError(.unprocessable, reason: "invalid_upload_id", "upload_id must be a string") }
            let parts = try Self.partNumbers(object.removeValue(forKey: "part_numbers"))
            guard object.isEmpty else {
                throw ArrowError(.unprocessable, reason: "unknown_field", "With upload_id only part_numbers may be given")
            }
            return EditedResponse(status: .ok, response: UploadSessionDTO(try await registry.signParts(principal: principal, id: id, parts: parts)))
        }
        guard let fileName = object.removeValue(forKey: "file_name") as? String else {
            throw ArrowError(.unprocessable, reason: "file_name_required", "file_name is required")
        }
        guard let size = object.removeValue(forKey: "file_size") else {
            throw ArrowError(.unprocessable, reason: "file_size_required", "file_size (bytes, an integer) is required")
        }
        let fileSize = try QueryParameters.byteCount(size, name: "file_size")
        let fileType = object.removeValue(forKey: "file_type")
        guard fileType == nil || fileType is String else { throw ArrowError(.unprocessable, reason: "invalid_file_type", "file_type must be a string") }
        let fields = try ImageFieldsJSON.fields(object, allowed: Self.fieldKeys)
        let signed = try await registry.startMultipart(
            principal: principal, fileName: fileName, fileType: fileType as? String, fileSize: fileSize, fields: fields)
        return EditedResponse(status: .created, response: UploadSessionDTO(signed))
    }

    static func partNumbers(_ value: Any?) throws -> [Int]? {
        guard let value else { return nil }
        guard let numbers = value as? [NSNumber], numbers.count <= 10_000,
              numbers.allSatisfy({ Int(exactly: $0.doubleValue) != nil }) else {
            throw ArrowError(.unprocessable, reason: "invalid_part_number", "part_numbers must be a list of at most 10,000 integers")
        }
        return numbers.map(\.intValue)
    }

    /// `{upload_id, sha256?}`: checks the parts, assembles, inspects and activates. 409 `parts_missing` names the
    /// parts to send; the session stays open for them.
    @Sendable func complete(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ImageDTO> {
        let principal = try Self.uploader(context)
        let object = try await JSONRequestBody.object(request)
        guard Set(object.keys).isSubset(of: ["upload_id", "sha256"]) else {
            throw ArrowError(.unprocessable, reason: "unknown_field", "Only upload_id and sha256 may be given")
        }
        guard let id = object["upload_id"] as? String else { throw ArrowError(.unprocessable, reason: "upload_id_required", "upload_id is required") }
        guard object["sha256"] == nil || object["sha256"] is String else {
            throw ArrowError(.unprocessable, reason: "invalid_sha256", "sha256 must be a string")
        }
        let image = try await registry.completeMultipart(principal: principal, id: id, sha256: object["sha256"] as? String)
        return EditedResponse(status: .created, response: ImageDTO(image))
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> UploadSessionDTO {
        UploadSessionDTO(try await registry.multipartStatus(principal: try Self.uploader(context), id: try context.parameters.require("upload_id")))
    }

    @Sendable func abort(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await registry.abortMultipart(principal: try Self.uploader(context), id: try context.parameters.require("upload_id"))
        return Response(status: .noContent)
    }
}
