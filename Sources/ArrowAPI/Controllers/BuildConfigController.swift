import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import HTTPTypes
import Hummingbird

extension ClientConfigView: ResponseEncodable {}
extension BuilderClientConfig: ResponseEncodable {}
extension ImageConfigDocument: ResponseEncodable {}

/// Build configuration: organizations' ClientConfig for admins, and for the builder holding a lease the
/// organization's ClientConfig (secrets included) and the task's ImageConfig.
struct BuildConfigController {
    let configs: BuildConfigs

    func register(on routes: APIRoutes) {
        routes.get("/api/organizations/:org_id/client-config", .permission(.orgAdmin), use: show)
        routes.put("/api/organizations/:org_id/client-config", .permission(.orgAdmin), use: update)
        routes.get("/api/imaging/client-config/:org_id", .builder, use: builderClientConfig)
        routes.get("/api/imaging/image-config/:task_id", .builder, use: builderImageConfig)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> ClientConfigView {
        try await configs.view(organization: try context.parameters.require("org_id"), principal: try context.requirePrincipal())
    }

    /// `If-Match: "<revision>"` (optional) refuses the write when the stored revision moved on.
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> ClientConfigView {
        let ifMatch = try QueryParameters.revision(ifMatch: request)
        let body = try await JSONRequestBody.bytes(request)
        return try await configs.update(organization: try context.parameters.require("org_id"), body: body, ifMatch: ifMatch,
                                        principal: try context.requirePrincipal())
    }

    @Sendable func builderClientConfig(_ request: Request, context: AppRequestContext) async throws -> BuilderClientConfig {
        try await configs.clientConfig(organization: try context.parameters.require("org_id"), lease: try Self.lease(request),
                                       principal: try context.requirePrincipal())
    }

    @Sendable func builderImageConfig(_ request: Request, context: AppRequestContext) async throws -> ImageConfigDocument {
        try await configs.imageConfig(task: try context.parameters.require("task_id"), lease: try Self.lease(request),
                                      principal: try context.requirePrincipal())
    }

    /// The lease headers; missing ones are 403 `lease_required` (the builder has no lease to show).
    static func lease(_ request: Request) throws -> BuildConfigs.PresentedLease {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        guard let token = header(LeaseHeaders.token), let attempt = header(LeaseHeaders.attempt).flatMap(Int.init) else {
            throw ArrowError(.forbidden, reason: "lease_required",
                             "Present the task's lease in \(LeaseHeaders.task), \(LeaseHeaders.attempt) and \(LeaseHeaders.token)")
        }
        return BuildConfigs.PresentedLease(taskID: header(LeaseHeaders.task), attempt: attempt, token: token)
    }
}
