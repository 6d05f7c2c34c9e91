import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import Hummingbird

extension ClaimResponse: ResponseEncodable {}
extension TaskStatusReply: ResponseEncodable {}

/// The builder API (builder service accounts) and the builders admins see.
struct BuilderController {
    let builds: BuildServices

    func register(on routes: APIRoutes) {
        routes.get("/api/vm-build/tasks", .authenticated, use: tasks)
        routes.post("/api/vm-build/tasks/claim", .builder, use: claim)
        routes.post("/api/vm-build/task-status", .builder, use: status)
        routes.get("/api/builders", .permission(.buildRead), use: builders)
    }

    /// For a builder: the queued tasks it could claim; for people (`build.read`): the organization's tasks.
    @Sendable func tasks(_ request: Request, context: AppRequestContext) async throws -> ListResponse<BuildTaskRecord> {
        let query = request.uri.queryParameters
        var filter = BuildTaskFilter()
        if let text = query["status"].map(String.init) {
            guard let status = BuildTaskStatus(rawValue: text) else {
                throw ArrowError(.invalidInput, reason: "invalid_filter",
                                 "status must be one of \(BuildTaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = status
        }
        filter.imageID = query["image_id"].map { ImageID(String($0)) }
        filter.deviceRequestID = query["device_request_id"].map { DeviceRequestID(String($0)) }
        let limit = try QueryParameters.integer(query["limit"].map(String.init), name: "limit", in: 1...500) ?? 100
        let tasks = try await builds.queue.list(filter, principal: try context.requirePrincipal(), limit: limit)
        return ListResponse(items: tasks.map(BuildTaskRecord.init))
    }

    /// 201 with the task and its lease, or 204 when nothing came within `wait` seconds.
    @Sendable func claim(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONRequestBody.decode(ClaimRequest.self, from: request)
        guard let claimed = try await builds.queue.claim(body, principal: try context.requirePrincipal()) else {
            return Response(status: .noContent)
        }
        return try EditedResponse(status: .created, response: claimed).response(from: request, context: context)
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> TaskStatusReply {
        let report = try await JSONRequestBody.decode(TaskStatusReport.self, from: request)
        return try await builds.queue.report(report, principal: try context.requirePrincipal())
    }

    @Sendable func builders(_ request: Request, context: AppRequestContext) async throws -> ListResponse<BuilderDTO> {
        ListResponse(items: try await builds.queue.builders(principal: try context.requirePrincipal()).map(BuilderDTO.init))
    }
}

struct BuilderDTO: ResponseCodable {
    var id: String
    var name: String
    var version: String
    var organizationId: String?
    var deviceTypes: [String]
    var buildServers: [String]
    var roles: [String]
    var currentTaskId: String?
    var registeredAt: Date
    var lastSeenAt: Date

    init(_ builder: Builder) {
        id = builder.id.rawValue
        name = builder.name
        version = builder.version
        organizationId = builder.organizationID?.rawValue
        deviceTypes = builder.deviceTypes.map(\.rawValue).sorted()
        buildServers = builder.buildServers.sorted()
        roles = builder.roles.sorted()
        currentTaskId = builder.currentTaskID?.rawValue
        registeredAt = builder.registeredAt
        lastSeenAt = builder.lastSeenAt
    }
}
