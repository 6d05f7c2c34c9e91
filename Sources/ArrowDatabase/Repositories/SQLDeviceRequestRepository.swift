import ArrowCore
import Foundation
import SQLKit

struct SQLDeviceRequestRepository: DeviceRequestRepository {
    let db: any SQLDatabase

    static let columns = ["id", "organization_id", "device_type", "client", "status", "created_at", "updated_at", "device_settings"]

    func create(_ request: DeviceRequest) async throws {
        try await db.insert(into: "device_requests").columns(Self.columns).values(
            SQLBind(request.id.rawValue), SQLBind(request.organizationID.rawValue), SQLBind(request.deviceType),
            SQLBind(request.client), SQLBind(request.status.rawValue), SQLBind(Timestamp.from(request.createdAt)),
            SQLBind(Timestamp.from(request.updatedAt)), SQLBind(try request.settings.map(Self.encode))
        ).run()
        for (position, image) in request.imageIDs.enumerated() {
            try await db.insert(into: "device_request_images").columns("request_id", "image_id", "position")
                .values(SQLBind(request.id.rawValue), SQLBind(image.rawValue), SQLBind(position)).run()
        }
    }

    func find(id: DeviceRequestID, scope: AccessScope) async throws -> DeviceRequest? {
        guard let row = try await select().where("id", .equal, id.rawValue).scoped(scope).first() else { return nil }
        return try await decode(row)
    }

    func list(scope: AccessScope, status: DeviceRequestStatus?, limit: Int) async throws -> [DeviceRequest] {
        var query = select().scoped(scope)
        if let status { query = query.where("status", .equal, status.rawValue) }
        var requests: [DeviceRequest] = []
        for row in try await query.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all() {
            requests.append(try await decode(row))
        }
        return requests
    }

    private func select() -> SQLSelectBuilder { db.select().columns(Self.columns.map { SQLColumn($0) }).from("device_requests") }

    private func decode(_ row: any SQLRow) async throws -> DeviceRequest {
        let id = try row.string("id")
        let images = try await db.select().column("image_id").from("device_request_images")
            .where("request_id", .equal, id).orderBy("position").all()
            .map { ImageID(try $0.string("image_id")) }
        guard let status = DeviceRequestStatus(rawValue: try row.string("status")) else {
            throw DatabaseError(.corruptRow, "device_requests row has an unknown status")
        }
        var request = DeviceRequest(
            id: DeviceRequestID(id), organizationID: OrganizationID(try row.string("organization_id")), deviceType: try row.string("device_type"),
            client: try row.string("client"), status: status, imageIDs: images,
            createdAt: Timestamp.date(try row.int64("created_at")), updatedAt: Timestamp.date(try row.int64("updated_at")))
        request.settings = try row.optionalString("device_settings").map { try JSONDecoder().decode(DeviceSettings.self, from: Data($0.utf8)) }
        return request
    }

    static func encode(_ settings: DeviceSettings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }

    func advance(id: DeviceRequestID, from: DeviceRequestStatus, to: DeviceRequestStatus, at: Date) async throws -> Bool {
        !(try await db.update("device_requests").set("status", to: to.rawValue).set("updated_at", to: Timestamp.from(at))
            .where("id", .equal, id.rawValue).where("status", .equal, from.rawValue).returning("id").all()).isEmpty
    }

    func setSettings(id: DeviceRequestID, _ settings: DeviceSettings, at: Date) async throws {
        try await db.update("device_requests").set("device_settings", to: String(decoding: try JSONEncoder().encode(settings), as: UTF8.self))
            .set("updated_at", to: Timestamp.from(at)).where("id", .equal, id.rawValue).run()
    }

    func setStatus(id: DeviceRequestID, _ status: DeviceRequestStatus, at: Date, scope: AccessScope) async throws -> Bool {
        !(try await db.update("device_requests").set("status", to: status.rawValue).set("updated_at", to: Timestamp.from(at))
            .where("id", .equal, id.rawValue).scoped(scope).returning("id").all()).isEmpty
    }
}

struct SQLImageUsageRepository: ImageUsageRepository {
    let db: any SQLDatabase

    func lockForUse(image: ImageID) async throws -> ImageStatus? {
        // FOR SHARE is a no-op in SQLite's dialect, where the transaction already holds the single writer lock.
        guard let row = try await db.select().column("status").from("images").where("id", .equal, image.rawValue)
            .for(.share).first()
        else { return nil }
        return ImageStatus(rawValue: try row.string("status"))
    }

    func usage(image: ImageID) async throws -> ImageUsage {
        let tasks = try await count(
            db.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from("vm_build_tasks")
                .where("image_id", .equal, image.rawValue)
                .where("status", .in, BuildTaskStatus.allCases.filter(\.isOpen).map(\.rawValue)))
        let requests = try await count(
            db.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from("device_request_images")
                .join("device_requests", on: SQLColumn("id", table: "device_requests"), .equal, SQLColumn("request_id", table: "device_request_images"))
                .where(SQLColumn("image_id", table: "device_request_images"), .equal, SQLBind(image.rawValue))
                .where(SQLColumn("status", table: "device_requests"), .in, SQLBind.group(DeviceRequestStatus.allCases.filter(\.isOpen).map(\.rawValue))))
        return ImageUsage(openBuildTasks: tasks, openDeviceRequests: requests)
    }

    private func count(_ query: SQLSelectBuilder) async throws -> Int {
        Int(try await query.first()?.int64("n") ?? 0)
    }
}
