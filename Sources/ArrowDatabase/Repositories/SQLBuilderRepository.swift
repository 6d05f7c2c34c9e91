import ArrowCore
import Foundation
import SQLKit

struct SQLBuilderRepository: BuilderRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "account_id", "organization_id", "name", "version", "device_types", "build_servers", "roles", "current_task_id",
        "registered_at", "last_seen_at",
    ]

    func register(_ builder: Builder) async throws -> Builder {
        // One row per (account, name): a builder that restarts keeps its id and its history.
        try await db.insert(into: "builders").columns(Self.columns).values(
            SQLBind(builder.id.rawValue), SQLBind(builder.accountID.rawValue), SQLBind(builder.organizationID?.rawValue),
            SQLBind(builder.name), SQLBind(builder.version), SQLBind(Self.encode(builder.deviceTypes.map(\.rawValue))),
            SQLBind(Self.encode(builder.buildServers)), SQLBind(Self.encode(builder.roles)), SQLBind(builder.currentTaskID?.rawValue),
            SQLBind(Timestamp.from(builder.registeredAt)), SQLBind(Timestamp.from(builder.lastSeenAt))
        ).onConflict(with: ["account_id", "name"]) { conflict in
            conflict.set(excludedValueOf: "version").set(excludedValueOf: "device_types").set(excludedValueOf: "build_servers").set(excludedValueOf: "roles")
                .set(excludedValueOf: "last_seen_at").set(excludedValueOf: "organization_id")
        }.run()
        guard let row = try await select().where("account_id", .equal, builder.accountID.rawValue).where("name", .equal, builder.name).first()
        else { throw DatabaseError(.corruptRow, "builder row vanished after its upsert") }
        return try Self.decode(row)
    }

    func find(id: BuilderID) async throws -> Builder? {
        try await select().where("id", .equal, id.rawValue).first().map(Self.decode)
    }

    func seen(id: BuilderID, currentTask: BuildTaskID?, at: Date) async throws {
        try await db.update("builders").set("current_task_id", to: currentTask?.rawValue).set("last_seen_at", to: Timestamp.from(at))
            .where("id", .equal, id.rawValue).run()
    }

    func list(scope: AccessScope) async throws -> [Builder] {
        var query = select()
        switch scope {
        case .all: break
        case .organization(let id):
            query = query.where(group: { $0.where("organization_id", .equal, id.rawValue).orWhere("organization_id", .is, SQLLiteral.null) })
        case .none: query = query.where(SQLLiteral.boolean(false))
        }
        return try await query.orderBy("last_seen_at", .descending).all().map(Self.decode)
    }

    private func select() -> SQLSelectBuilder { db.select().columns(Self.columns.map { SQLColumn($0) }).from("builders") }

    static func encode(_ values: some Collection<String>) -> String { values.sorted().joined(separator: ",") }

    static func decode(_ row: any SQLRow) throws -> Builder {
        func list(_ column: String) throws -> [String] { try row.string(column).split(separator: ",").map(String.init) }
        return Builder(
            id: BuilderID(try row.string("id")), accountID: UserID(try row.string("account_id")),
            organizationID: try row.optionalString("organization_id").map { OrganizationID($0) }, name: try row.string("name"),
            version: try row.string("version"), deviceTypes: Set(try list("device_types").compactMap(DeviceType.init(rawValue:))),
            buildServers: Set(try list("build_servers")), roles: Set(try list("roles")), currentTaskID: try row.optionalString("current_task_id").map { BuildTaskID($0) },
            registeredAt: Timestamp.date(try row.int64("registered_at")), lastSeenAt: Timestamp.date(try row.int64("last_seen_at")))
    }
}
