import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import HTTPTypes
import Hummingbird

extension BuildFailureReport: ResponseEncodable {}
extension TemplateRunRecord: ResponseEncodable {}

/// Build templates (`/api/organizations/{org}/build-templates`) and the failure analysis (`/api/vm-build/failures`).
struct BuildTemplateController {
    let templates: BuildTemplates
    let failures: BuildFailures

    func register(on routes: APIRoutes) {
        let base = "/api/organizations/:org_id/build-templates"
        routes.get(base, .permission(.buildRead), use: list)
        routes.post(base, .permission(.imageAdmin), use: create)
        routes.get("\(base)/:template_id", .permission(.buildRead), use: show)
        routes.put("\(base)/:template_id", .permission(.imageAdmin), use: update)
        routes.delete("\(base)/:template_id", .permission(.imageAdmin), use: delete)
        routes.post("\(base)/:template_id/run", .permission(.imageAdmin), use: run)
        routes.get("\(base)/:template_id/runs", .permission(.buildRead), use: runs)
        routes.get("/api/vm-build/failures", .permission(.buildRead), use: failureReport)
    }

    struct TemplateBody: Decodable {
        var name: String
        var baseImageId: String
        var followLatest: Bool?
        var buildType: String?
        var vmName: String?
        var buildServerId: String?
        var schedule: String?
        var timeZone: String?
        var requireVerification: Bool?
        var promoteToDefault: Bool?
    }

    static let bodyKeys: Set<String> = [
        "name", "base_image_id", "follow_latest", "build_type", "vm_name", "build_server_id", "build_options", "schedule", "time_zone",
        "require_verification", "promote_to_default",
    ]

    static func input(_ request: Request) async throws -> TemplateInput {
        let data = try await JSONRequestBody.bytes(request)
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let unknown = object.keys.filter({ !Self.bodyKeys.contains($0) }).sorted().first {
            throw ArrowError(.unprocessable, reason: "unknown_field", "\(unknown) is not a template field; known: \(Self.bodyKeys.sorted().joined(separator: ", "))")
        }
        let body = try JSONRequestBody.decode(TemplateBody.self, from: data)
        let definition = BuildTemplate.Definition(
            baseImageId: body.baseImageId, followLatest: body.followLatest ?? false, buildType: body.buildType ?? "vm", vmName: body.vmName,
            options: try BuildOptionsJSON.decode(from: data), buildServerId: body.buildServerId)
        return TemplateInput(name: body.name, definition: definition, schedule: body.schedule, timeZone: body.timeZone ?? "UTC",
                             requireVerification: body.requireVerification ?? false, promoteToDefault: body.promoteToDefault ?? false)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<BuildTemplateDTO> {
        let template = try await templates.create(organization: try context.parameters.require("org_id"), try await Self.input(request),
                                                  principal: try context.requirePrincipal())
        return EditedResponse(status: .created, response: BuildTemplateDTO(template))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> ListResponse<BuildTemplateDTO> {
        ListResponse(items: try await templates.list(organization: try context.parameters.require("org_id"), principal: try context.requirePrincipal())
            .map(BuildTemplateDTO.init))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> BuildTemplateDTO {
        BuildTemplateDTO(try await templates.find(organization: try context.parameters.require("org_id"), id: try context.parameters.require("template_id"),
                                                  principal: try context.requirePrincipal()))
    }

    /// `If-Match: "<revision>"` (optional) refuses the write when the template moved on.
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> BuildTemplateDTO {
        BuildTemplateDTO(try await templates.update(
            organization: try context.parameters.require("org_id"), id: try context.parameters.require("template_id"), try await Self.input(request),
            ifRevision: try QueryParameters.revision(ifMatch: request), principal: try context.requirePrincipal()))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await templates.delete(organization: try context.parameters.require("org_id"), id: try context.parameters.require("template_id"),
                                   principal: try context.requirePrincipal())
        return Response(status: .noContent)
    }

    @Sendable func run(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TemplateRunRecord> {
        let run = try await templates.run(organization: try context.parameters.require("org_id"), id: try context.parameters.require("template_id"),
                                          principal: try context.requirePrincipal())
        return EditedResponse(status: .created, response: TemplateRunRecord(run))
    }

    @Sendable func runs(_ request: Request, context: AppRequestContext) async throws -> ListResponse<TemplateRunRecord> {
        let limit = try QueryParameters.integer(request.uri.queryParameters["limit"].map(String.init), name: "limit", in: 1...500) ?? 50
        return ListResponse(items: try await templates.runs(organization: try context.parameters.require("org_id"), id: try context.parameters.require("template_id"),
                                                            principal: try context.requirePrincipal(), limit: limit).map(TemplateRunRecord.init))
    }

    /// `?window=` seconds or with a unit (`24h`, `7d`); default 7 days, at most 366 days.
    @Sendable func failureReport(_ request: Request, context: AppRequestContext) async throws -> BuildFailureReport {
        let window = try QueryParameters.duration(request.uri.queryParameters["window"].map(String.init), name: "window", max: 366 * 86400) ?? 7 * 86400
        return try await failures.report(principal: try context.requirePrincipal(), since: Date().addingTimeInterval(-Double(window)))
    }
}

struct BuildTemplateDTO: ResponseCodable {
    var id: String
    var organizationId: String
    var name: String
    var revision: Int
    var baseImageId: String
    var followLatest: Bool
    var buildType: String
    var vmName: String?
    var buildServerId: String?
    var buildOptions: BuildOptions
    var schedule: String?
    var timeZone: String
    var nextRunAt: Date?
    var requireVerification: Bool
    var promoteToDefault: Bool
    var latestArtifactId: String?
    var lastBaseImageId: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ template: BuildTemplate) {
        id = template.id.rawValue
        organizationId = template.organizationID.rawValue
        name = template.name
        revision = template.revision
        baseImageId = template.definition.baseImageId
        followLatest = template.definition.followLatest
        buildType = template.definition.buildType
        vmName = template.definition.vmName
        buildServerId = template.definition.buildServerId
        buildOptions = template.definition.options
        schedule = template.schedule
        timeZone = template.timeZone
        nextRunAt = template.nextRunAt
        requireVerification = template.requireVerification
        promoteToDefault = template.promoteToDefault
        latestArtifactId = template.latestArtifactID?.rawValue
        lastBaseImageId = template.lastBaseImageID?.rawValue
        createdAt = template.createdAt
        updatedAt = template.updatedAt
    }
}
