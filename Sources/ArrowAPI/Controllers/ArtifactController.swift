import ArrowBuilds
import ArrowCore
import ArrowProtocol
import ArrowRegistry
import Foundation
import HTTPTypes
import Hummingbird

extension ArtifactReceipt: ResponseEncodable {}

/// Built images: the builder's artifact upload (under its lease) and what a built image contains.
struct ArtifactController {
    let builds: BuildServices
    let registry: ImageRegistry

    func register(on routes: APIRoutes) {
        routes.put("/api/vm-build/tasks/:task_id/artifact", .builder, use: upload)
        routes.post("/api/vm-build/tasks/:task_id/publish", .builder, use: publish)
        routes.get("/api/vm_images/:image_id/contents", .permission(.imageRead), use: contents)
    }

    /// The qcow2's bytes as the body; stored, inspected and checked against `X-Arrow-Artifact-SHA256` like any upload,
    /// as a new image of the task's organization (a new version of the base image when that is the organization's).
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ArtifactReceipt> {
        let principal = try context.requirePrincipal()
        let lease = try BuildConfigController.lease(request)
        let (task, base) = try await builds.configs.artifactTarget(task: try context.parameters.require("task_id"), lease: lease, principal: principal)
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        guard let sha256 = header("X-Arrow-Artifact-SHA256"), sha256.count == 64 else {
            throw ArrowError(.invalidInput, reason: "sha256_required", "Send the artifact's SHA-256 in X-Arrow-Artifact-SHA256")
        }
        let label = task.vmName ?? task.options.hostname ?? String(task.id.rawValue.prefix(8))
        var fields = ImageUploadFields(
            name: String("\(base?.name ?? "image") · \(label)".prefix(ImageMetadataRules.maximumNameLength)),
            description: "Built by task \(task.id.rawValue) from \(base?.name ?? task.imageID.rawValue) (\(task.imageID.rawValue))",
            sha256: sha256, previousVersionID: base?.organizationID == task.organizationID ? task.imageID.rawValue : nil)
        if let base, base.organizationID == task.organizationID {
            fields.software = String(decoding: try JSONEncoder().encode(base.software), as: UTF8.self)
        }
        let image = try await registry.storeBuilt(
            organization: task.organizationID, fileName: header("X-Arrow-Artifact-Name") ?? "\(label).qcow2",
            body: BlobBody(request.body, transform: { Array($0.readableBytesView) }), fields: fields, builder: principal)
        return EditedResponse(status: .created, response: ArtifactReceipt(imageId: image.id.rawValue, sha256: image.sha256, size: image.fileSize))
    }

    struct PublishRequest: Decodable { var artifactImageId: String }
    struct Published: ResponseCodable { var imageId: String; var downloadUrl: String }

    /// The `download` target: the builder holding the task's lease publishes the artifact it stored for the task.
    @Sendable func publish(_ request: Request, context: AppRequestContext) async throws -> Published {
        let principal = try context.requirePrincipal()
        let lease = try BuildConfigController.lease(request)
        let (task, _) = try await builds.configs.artifactTarget(task: try context.parameters.require("task_id"), lease: lease, principal: principal)
        let body = try await JSONRequestBody.decode(PublishRequest.self, from: request)
        let image = try await registry.publishBuilt(image: ImageID(body.artifactImageId), organization: task.organizationID, builder: principal)
        return Published(imageId: image.id.rawValue, downloadUrl: image.downloadURL ?? "")
    }

    /// A built image's provenance and package contents (404 `not_built` for an image no build produced).
    @Sendable func contents(_ request: Request, context: AppRequestContext) async throws -> Response {
        let image = try await registry.image(id: try context.parameters.require("image_id"), principal: try context.requirePrincipal(),
                                             needing: .imageRead)
        guard let build = try await builds.store.repositories.imageBuilds.find(image: image.id) else {
            throw ArrowError(.notFound, reason: "not_built", "This image was uploaded, not built: no build recorded what it contains")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: build.provenance)))
    }
}
