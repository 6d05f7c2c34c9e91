import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import Hummingbird

extension BuildTaskRecord: ResponseEncodable {}
extension TriggerResponse: ResponseEncodable {}

/// What people do with builds: trigger them (the platform's trigger and the manual one), watch them, retry and
/// cancel them, and read the dispatches and device requests around them.
struct BuildController {
    let builds: BuildServices

    func register(on routes: APIRoutes) {
        routes.post("/api/vm-imaging/trigger", .permission(.buildTrigger), use: triggerImaging)
        routes.get("/api/vm-imaging/dispatches", .permission(.buildTrigger), use: dispatches)
        routes.post("/api/vm-build/trigger", .permission(.imageAdmin), use: triggerManual)
        routes.post("/api/vm_images/:image_id/deploy", .permission(.imageAdmin), use: deploy)
        routes.get("/api/vm-build/tasks/:task_id", .permission(.buildRead), use: show)
        routes.get("/api/vm-build/stats", .permission(.buildRead), use: stats)
        routes.post("/api/vm-build/tasks/:task_id/retry", .permission(.buildTrigger), use: retry)
        routes.post("/api/vm-build/tasks/:task_id/cancel", .permission(.buildTrigger), use: cancel)
        routes.get("/api/device-requests", .permission(.buildRead), use: deviceRequests)
        routes.get("/api/device-requests/:request_id", .permission(.buildRead), use: deviceRequest)
    }

    @Sendable func triggerImaging(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TriggerResponse> {
        let payload = try await JSONRequestBody.decode(ImagingTriggerPayload.self, from: request)
        let (tasks, created) = try await builds.trigger.trigger(payload, principal: try context.requirePrincipal())
        return EditedResponse(status: created ? .created : .ok, response: TriggerResponse(
            tasks: tasks.map { TriggeredTask(id: $0.id.rawValue, imageId: $0.imageID.rawValue, status: $0.status.rawValue) }, created: created))
    }

    /// The spec's manual trigger; `build_options` is closed (an unknown key is refused with its name).
    @Sendable func triggerManual(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TriggerResponse> {
        let data = try await JSONRequestBody.bytes(request)
        let body = try JSONRequestBody.decode(ManualBuildRequest.self, from: data)
        let options = try BuildOptionsJSON.decode(from: data)
        let task = try await builds.trigger.triggerManual(body, options: options, principal: try context.requirePrincipal())
        return EditedResponse(status: .created, response: TriggerResponse(
            tasks: [TriggeredTask(id: task.id.rawValue, imageId: task.imageID.rawValue, status: task.status.rawValue)], created: true))
    }

    struct DeployRequest: Decodable {
        var target: String
        var buildServerId: String?
        var vmName: String?
        var keepOnFailure: Bool?
    }

    /// `arrow deploy`: a task that deploys the image as it is (no build), from the deployment phase.
    @Sendable func deploy(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<TriggerResponse> {
        let body = try await JSONRequestBody.decode(DeployRequest.self, from: request)
        guard let target = BuildOptions.DeploymentTarget(rawValue: body.target) else {
            throw ArrowError(.unprocessable, reason: "unsupported_deployment_target", "target must be qemu or proxmox")
        }
        let task = try await builds.trigger.triggerDeploy(image: try context.parameters.require("image_id"), target: target, buildServerID: body.buildServerId,
                                                          vmName: body.vmName, keepOnFailure: body.keepOnFailure, principal: try context.requirePrincipal())
        return EditedResponse(status: .created, response: TriggerResponse(
            tasks: [TriggeredTask(id: task.id.rawValue, imageId: task.imageID.rawValue, status: task.status.rawValue)], created: true))
    }

    /// The task with its phase timings and log links.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> BuildTaskRecord {
        let task = try await builds.queue.find(try context.parameters.require("task_id"), principal: try context.requirePrincipal())
        return BuildTaskRecord(task, phases: try await builds.phases(of: task))
    }

    /// `fresh=true` starts over from the first phase.
    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> BuildTaskRecord {
        let fresh = try QueryParameters.bool(request.uri.queryParameters["fresh"].map(String.init), name: "fresh") ?? false
        return BuildTaskRecord(try await builds.queue.retry(try context.parameters.require("task_id"), fresh: fresh,
                                                            principal: try context.requirePrincipal()))
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> BuildTaskRecord {
        BuildTaskRecord(try await builds.queue.cancel(try context.parameters.require("task_id"), principal: try context.requirePrincipal()))
    }

    /// `?window=` seconds, or with a unit (`30m`, `24h`, `7d`); default 7 days, at most 366 days.
    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> BuildStatsDTO {
        let window = try QueryParameters.duration(request.uri.queryParameters["window"].map(String.init), name: "window",
                                                  max: 366 * 86400) ?? 7 * 86400
        return BuildStatsDTO(try await builds.statistics(window: window, principal: try context.requirePrincipal()))
    }

    @Sendable func dispatches(_ request: Request, context: AppRequestContext) async throws -> ListResponse<DispatchDTO> {
        let limit = try QueryParameters.integer(request.uri.queryParameters["limit"].map(String.init), name: "limit", in: 1...500) ?? 100
        let messages = try await builds.dispatches(principal: try context.requirePrincipal(), limit: limit)
        return ListResponse(items: messages.map(DispatchDTO.init))
    }

    @Sendable func deviceRequests(_ request: Request, context: AppRequestContext) async throws -> ListResponse<DeviceRequestDTO> {
        let query = request.uri.queryParameters
        let limit = try QueryParameters.integer(query["limit"].map(String.init), name: "limit", in: 1...500) ?? 100
        var status: DeviceRequestStatus?
        if let text = query["status"].map(String.init) {
            guard let parsed = DeviceRequestStatus(rawValue: text) else {
                throw ArrowError(.invalidInput, reason: "invalid_filter",
                                 "status must be one of \(DeviceRequestStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let requests = try await builds.deviceRequests(principal: try context.requirePrincipal(), status: status, limit: limit)
        return ListResponse(items: requests.map { DeviceRequestDTO($0, tasks: nil) })
    }

    @Sendable func deviceRequest(_ request: Request, context: AppRequestContext) async throws -> DeviceRequestDTO {
        let (found, tasks) = try await builds.deviceRequest(try context.parameters.require("request_id"), principal: try context.requirePrincipal())
        return DeviceRequestDTO(found, tasks: tasks.map(BuildTaskRecord.init))
    }
}

/// `build_options`: an object whose keys are all known, decoded to ``BuildOptions``.
enum BuildOptionsJSON {
    static func decode(from body: Data) throws -> BuildOptions {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw ArrowError(.invalidInput, reason: "invalid_json", "The body must be a JSON object")
        }
        guard let raw = object["build_options"], !(raw is NSNull) else { return BuildOptions() }
        guard let options = raw as? [String: Any] else {
            throw ArrowError(.invalidInput, reason: "invalid_json", "build_options must be an object")
        }
        if let unknown = options.keys.filter({ !BuildOptions.keys.contains($0) }).sorted().first {
            throw ArrowError(.unprocessable, reason: "unknown_build_option",
                             "build_options.\(unknown) is not a build option; known: \(BuildOptions.keys.sorted().joined(separator: ", "))")
        }
        if let target = options["deployment_target"], !BuildOptions.DeploymentTarget.allCases.map(\.rawValue).contains(target as? String ?? "") {
            throw ArrowError(.unprocessable, reason: "unsupported_deployment_target",
                             "build_options.deployment_target must be one of \(BuildOptions.DeploymentTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let data = try JSONSerialization.data(withJSONObject: options)
        do {
            return try JSONDecoder().decode(BuildOptions.self, from: data)
        } catch let error as DecodingError {
            throw ArrowError(.invalidInput, reason: "invalid_json", "build_options: " + JSONRequestBody.message(for: error))
        }
    }
}

struct DispatchDTO: ResponseCodable {
    struct Attempt: Codable, Sendable {
        var number: Int
        var at: Date
        var httpStatus: Int?
        var error: String?
        var durationMs: Int
    }

    var id: String
    var kind: String
    var subject: String
    var webhookId: String?
    var status: String
    var attempts: Int
    var nextAttemptAt: Date
    var lastHttpStatus: Int?
    var lastError: String?
    var createdAt: Date
    var deliveredAt: Date?
    var history: [Attempt]

    init(_ entry: (OutboxMessage, [DeliveryAttempt])) {
        let (message, attempts) = entry
        id = message.id.rawValue
        kind = message.kind.rawValue
        subject = message.subject
        webhookId = message.webhookID?.rawValue
        status = message.status.rawValue
        self.attempts = message.attempts
        nextAttemptAt = message.nextAttemptAt
        lastHttpStatus = message.lastHTTPStatus
        lastError = message.lastError
        createdAt = message.createdAt
        deliveredAt = message.deliveredAt
        history = attempts.map { Attempt(number: $0.number, at: $0.at, httpStatus: $0.httpStatus, error: $0.error, durationMs: $0.durationMS) }
    }
}

struct DeviceRequestDTO: ResponseCodable {
    var id: String
    var organizationId: String
    var deviceType: String
    var client: String
    var status: String
    var imageIds: [String]
    var deviceSettings: DeviceSettings?
    var createdAt: Date
    var updatedAt: Date
    var tasks: [BuildTaskRecord]?

    init(_ request: DeviceRequest, tasks: [BuildTaskRecord]?) {
        id = request.id.rawValue
        organizationId = request.organizationID.rawValue
        deviceType = request.deviceType
        client = request.client
        status = request.status.rawValue
        imageIds = request.imageIDs.map(\.rawValue)
        deviceSettings = request.settings
        createdAt = request.createdAt
        updatedAt = request.updatedAt
        self.tasks = tasks
    }
}
