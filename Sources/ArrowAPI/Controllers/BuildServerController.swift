import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import HTTPTypes
import Hummingbird

extension BuildServerView: ResponseEncodable {}
extension BuildServerList: ResponseEncodable {}
extension BuildServerCheck: ResponseEncodable {}

/// Organizations' Proxmox VE endpoints (`arrow build-server add|list|check|remove`).
struct BuildServerController {
    let servers: BuildServers

    func register(on routes: APIRoutes) {
        routes.get("/api/organizations/:org_id/build-servers", .permission(.orgAdmin), use: list)
        routes.post("/api/organizations/:org_id/build-servers", .permission(.orgAdmin), use: add)
        routes.delete("/api/organizations/:org_id/build-servers/:server_id", .permission(.orgAdmin), use: remove)
        routes.post("/api/organizations/:org_id/build-servers/:server_id/check", .permission(.orgAdmin), use: check)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> BuildServerList {
        try await servers.list(organization: try context.parameters.require("org_id"), principal: try context.requirePrincipal())
    }

    /// 201 with the server as stored: the secret is only said to be set.
    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<BuildServerView> {
        let body = try await JSONRequestBody.decode(BuildServerRequest.self, from: request)
        return EditedResponse(status: .created, response: try await servers.add(
            organization: try context.parameters.require("org_id"), body, principal: try context.requirePrincipal()))
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        try await servers.remove(organization: try context.parameters.require("org_id"), id: try context.parameters.require("server_id"),
                                 principal: try context.requirePrincipal())
        return .noContent
    }

    @Sendable func check(_ request: Request, context: AppRequestContext) async throws -> BuildServerCheck {
        try await servers.check(organization: try context.parameters.require("org_id"), id: try context.parameters.require("server_id"),
                                principal: try context.requirePrincipal())
    }
}
