import ArrowCore
import ArrowRegistry
import Foundation
import Hummingbird

/// Collections: sharing an image with other organizations, public images, an organization's default images.
struct CollectionController {
    let registry: ImageRegistry

    func register(on routes: APIRoutes) {
        routes.get("/api/vm_images/:image_id/shares", .permission(.imageRead), use: shares)
        routes.post("/api/vm_images/:image_id/shares", .permission(.imageAdmin), use: share)
        routes.delete("/api/vm_images/:image_id/shares/:org_id", .permission(.imageAdmin), use: unshare)
        routes.put("/api/vm_images/:image_id/public", .superuser(.imageAdmin), use: setPublic)
        routes.put("/api/vm_images/:image_id/download", .permission(.imageAdmin), use: publish)
        routes.delete("/api/vm_images/:image_id/download", .permission(.imageAdmin), use: unpublish)
        routes.get("/api/organizations/:org_id/default_images", .permission(.imageRead), use: defaults)
        routes.put("/api/organizations/:org_id/default_images", .permission(.imageAdmin), use: setDefaults)
        routes.delete("/api/organizations/:org_id/default_images", .permission(.imageAdmin), use: clearDefaults)
    }

    struct ShareRequest: Decodable { var organizationId: String }
    struct PublicRequest: Decodable { var `public`: Bool }
    struct DefaultsRequest: Decodable { var imageIds: [String] }
    struct Share: ResponseCodable { var organizationId: String }

    @Sendable func shares(_ request: Request, context: AppRequestContext) async throws -> ListResponse<Share> {
        let organizations = try await registry.shares(id: try context.parameters.require("image_id"), principal: try context.requirePrincipal())
        return ListResponse(items: organizations.map { Share(organizationId: $0.rawValue) })
    }

    @Sendable func share(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ListResponse<Share>> {
        let principal = try context.requirePrincipal()
        try principal.require(.imageAdmin)
        let body = try await request.decode(as: ShareRequest.self, context: context)
        let id = try context.parameters.require("image_id")
        let organizations = try await registry.share(id: id, with: body.organizationId, principal: principal)
        return EditedResponse(status: .created, response: ListResponse(items: organizations.map { Share(organizationId: $0.rawValue) }))
    }

    @Sendable func unshare(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await registry.unshare(id: try context.parameters.require("image_id"), from: try context.parameters.require("org_id"),
                                   principal: try context.requirePrincipal())
        return Response(status: .noContent)
    }

    /// Copies the image to the public area under a stable URL (the image's `download_url`).
    @Sendable func publish(_ request: Request, context: AppRequestContext) async throws -> ImageDTO {
        ImageDTO(try await registry.publish(id: try context.parameters.require("image_id"), principal: try context.requirePrincipal()))
    }

    /// Removes the public copy.
    @Sendable func unpublish(_ request: Request, context: AppRequestContext) async throws -> ImageDTO {
        ImageDTO(try await registry.unpublish(id: try context.parameters.require("image_id"), principal: try context.requirePrincipal()))
    }

    @Sendable func setPublic(_ request: Request, context: AppRequestContext) async throws -> ImageDTO {
        let principal = try context.requirePrincipal()
        try principal.require(.imageAdmin)
        let body = try await request.decode(as: PublicRequest.self, context: context)
        return ImageDTO(try await registry.setPublic(id: try context.parameters.require("image_id"), body.public, principal: principal))
    }

    @Sendable func defaults(_ request: Request, context: AppRequestContext) async throws -> ListResponse<ImageDTO> {
        let entries = try await registry.defaults(principal: try context.requirePrincipal(), organization: try context.parameters.require("org_id"))
        return ListResponse(items: entries.map(ImageDTO.init))
    }

    /// `{image_ids: [...]}`: the new defaults, in order.
    @Sendable func setDefaults(_ request: Request, context: AppRequestContext) async throws -> ListResponse<ImageDTO> {
        let principal = try context.requirePrincipal()
        try principal.requireHuman()
        try principal.require(.imageAdmin)
        let body = try await request.decode(as: DefaultsRequest.self, context: context)
        let entries = try await registry.setDefaults(body.imageIds, principal: principal, organization: try context.parameters.require("org_id"))
        return ListResponse(items: entries.map(ImageDTO.init))
    }

    @Sendable func clearDefaults(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await registry.setDefaults([], principal: try context.requirePrincipal(), organization: try context.parameters.require("org_id"))
        return Response(status: .noContent)
    }
}
