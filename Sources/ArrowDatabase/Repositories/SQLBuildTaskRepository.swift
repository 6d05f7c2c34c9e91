import ArrowCore
import Foundation
import SQLKit

/// The build queue on SQL. Claims lock the row they take (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
/// writer on SQLite) and every later write is a compare-and-set on status, attempt and lease token. Lease times
/// come from the database's clock (``DatabaseClock``).
struct SQLBuildTaskRepository: BuildTaskRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "organization_id", "image_id", "device_request_id", "status", "created_by", "created_at", "updated_at",
        "device_type", "build_server_id", "client", "vm_name", "description", "build_options", "notify_on_complete",
        "phase", "attempt", "lease_token", "leased_until", "progress", "completed_phases", "lease_losses", "error_code",
        "error_message", "artifact_image_id", "builder_id", "started_at", "finished_at",
    ]

    private var clock: DatabaseClock { DatabaseClock(db) }

    func create(_ task: BuildTask) async throws {
        let values: [any Encodable & Sendable] = [
            task.id.rawValue, task.organizationID.rawValue, task.imageID.rawValue, task.deviceRequestID?.rawValue,
            task.status.rawValue, task.createdBy?.rawValue, Timestamp.from(task.createdAt), Timestamp.from(task.updatedAt),
            task.deviceType.rawValue, task.buildServerID, task.client, task.vmName, task.description,
            try BuildTaskRow.encode(task.options), task.notifyOnComplete ? 1 : 0, task.state.phase?.rawValue,
            task.state.attempt, task.state.leaseToken, task.leasedUntil.map(Timestamp.from), task.state.progress,
            BuildTaskRow.encode(task.state.completedPhases), task.state.leaseLosses, task.state.errorCode?.rawValue,
            task.state.errorMessage, task.state.artifactImageID?.rawValue, task.builderID?.rawValue,
            task.startedAt.map(Timestamp.from), task.finishedAt.map(Timestamp.from),
        ]
        try await db.insert(into: "vm_build_tasks").columns(Self.columns).values(values.map { SQLBind($0) }).run()
    }

    func find(id: BuildTaskID, scope: AccessScope) async throws -> BuildTask? {
        try await select().where("id", .equal, id.rawValue).scoped(scope).first().map(BuildTaskRow.decode)
    }

    func list(_ filter: BuildTaskFilter, scope: AccessScope, limit: Int) async throws -> [BuildTask] {
        var query = select().scoped(scope)
        if let status = filter.status { query = query.where("status", .equal, status.rawValue) }
        if let image = filter.imageID { query = query.where("image_id", .equal, image.rawValue) }
        if let request = filter.deviceRequestID { query = query.where("device_request_id", .equal, request.rawValue) }
        return try await query.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all().map(BuildTaskRow.decode)
    }

    func setStatus(id: BuildTaskID, _ status: BuildTaskStatus, at: Date, scope: AccessScope) async throws -> Bool {
        !(try await db.update("vm_build_tasks").set("status", to: status.rawValue).set("updated_at", to: Timestamp.from(at))
            .where("id", .equal, id.rawValue).scoped(scope).returning("id").all()).isEmpty
    }

    /// One statement, as osbuild-composer's dequeue: `UPDATE … WHERE id = (SELECT id … FOR UPDATE SKIP LOCKED)
    /// RETURNING …`. Concurrent claimers on PostgreSQL each lock a different row instead of queueing on the first;
    /// SQLite's dialect drops the locking clause (its transaction holds the only write lock). The values written are
    /// ``BuildTaskState/claim(token:)``'s, the resume phase included (``BuildTaskRow/resumePhase``).
    func claim(for builder: Builder, scope: AccessScope, token: String, leaseSeconds: Int) async throws -> BuildTask? {
        guard !builder.deviceTypes.isEmpty else { return nil }
        let servers = builder.buildServers.sorted()
        let pick = db.select().column("id").from("vm_build_tasks").where("status", .equal, BuildTaskStatus.queued.rawValue)
            .where("device_type", .in, builder.deviceTypes.map(\.rawValue).sorted())
            .scoped(scope)
            .where(group: { group in
                let group = group.where("build_server_id", .is, SQLLiteral.null)
                return servers.isEmpty ? group : group.orWhere("build_server_id", .in, servers)
            })
            .orderBy("created_at").orderBy("id").limit(1).lockingClause(SQLSkipLocked())
        let now = clock.nowMilliseconds
        // A claimer that finds the picked row taken meanwhile (possible between SQLite connections of other
        // processes) looks again.
        for _ in 0..<4 {
            let claimed = try await db.update("vm_build_tasks")
                .set("status", to: BuildTaskStatus.running.rawValue)
                .set(SQLColumn("attempt"), to: SQLRaw("attempt + 1"))
                .set("lease_token", to: token)
                .set(SQLColumn("phase"), to: BuildTaskRow.resumePhase)
                .set("error_code", to: String?.none).set("error_message", to: String?.none)
                .set("builder_id", to: builder.id.rawValue)
                .set(SQLColumn("leased_until"), to: SQLBinaryExpression(now, .add, SQLBind(Int64(leaseSeconds) * 1000)))
                .set(SQLColumn("started_at"), to: now).set(SQLColumn("updated_at"), to: now)
                .where(SQLColumn("id"), .equal, SQLGroupExpression(pick.select))
                .where("status", .equal, BuildTaskStatus.queued.rawValue)
                .returning(Self.columns.map { SQLColumn($0) }).first().map(BuildTaskRow.decode)
            if let claimed { return claimed }
            guard try await pick.first() != nil else { return nil }
        }
        return nil
    }

    func write(_ task: BuildTask, expecting: BuildTaskState, leaseSeconds: Int?) async throws -> Bool {
        try await write(task, expecting: expecting, leaseSeconds: leaseSeconds, started: false) != nil
    }

    /// The row as written, or nil when it no longer matched `expecting`.
    private func write(_ task: BuildTask, expecting: BuildTaskState, leaseSeconds: Int?, started: Bool) async throws -> BuildTask? {
        let now = clock.nowMilliseconds
        let state = task.state
        var update = db.update("vm_build_tasks")
            .set("status", to: state.status.rawValue).set("phase", to: state.phase?.rawValue)
            .set("attempt", to: state.attempt).set("lease_token", to: state.leaseToken).set("progress", to: state.progress)
            .set("completed_phases", to: BuildTaskRow.encode(state.completedPhases)).set("lease_losses", to: state.leaseLosses)
            .set("error_code", to: state.errorCode?.rawValue).set("error_message", to: state.errorMessage)
            .set("artifact_image_id", to: state.artifactImageID?.rawValue).set("builder_id", to: task.builderID?.rawValue)
            .set(SQLColumn("updated_at"), to: now)
        if let leaseSeconds {
            update = update.set(SQLColumn("leased_until"), to: SQLBinaryExpression(now, .add, SQLBind(Int64(leaseSeconds) * 1000)))
        } else if state.leaseToken == nil || !state.status.isOpen {
            update = update.set("leased_until", to: Int64?.none)
        }
        if started { update = update.set(SQLColumn("started_at"), to: now) }
        if !state.status.isOpen { update = update.set(SQLColumn("finished_at"), to: now) }
        if state.status == .queued { update = update.set("finished_at", to: Int64?.none).set("logs_archived_at", to: Int64?.none) }
        update = update.where("id", .equal, task.id.rawValue).where("status", .equal, expecting.status.rawValue)
            .where("attempt", .equal, expecting.attempt)
        if let token = expecting.leaseToken {
            update = update.where("lease_token", .equal, token)
        } else {
            update = update.where("lease_token", .is, SQLLiteral.null)
        }
        return try await update.returning(Self.columns.map { SQLColumn($0) }).first().map(BuildTaskRow.decode)
    }

    func leased(id: BuildTaskID, attempt: Int, token: String, scope: AccessScope) async throws -> BuildTask? {
        try await select().where("id", .equal, id.rawValue).scoped(scope)
            .where("status", .equal, BuildTaskStatus.running.rawValue).where("attempt", .equal, attempt).where("lease_token", .equal, token)
            .where(SQLColumn("leased_until"), .greaterThan, clock.nowMilliseconds)
            .first().map(BuildTaskRow.decode)
    }

    func expiredLeases(limit: Int) async throws -> [BuildTask] {
        try await select().where("status", .equal, BuildTaskStatus.running.rawValue)
            .where(SQLColumn("leased_until"), .lessThan, clock.nowMilliseconds)
            .orderBy("leased_until").limit(limit).all().map(BuildTaskRow.decode)
    }

    func announce() async throws {
        guard db.dialect.name == "postgresql" else { return }
        try await db.raw("NOTIFY \(unsafeRaw: BuildTaskChannel.name)").run()
    }

    func queueSummary() async throws -> QueueSummary {
        let row = try await db.select()
            .column(SQLRaw("SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END)"), as: "queued")
            .column(SQLRaw("SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END)"), as: "running")
            .column(SQLRaw("MIN(CASE WHEN status = 'queued' THEN created_at END)"), as: "oldest")
            .column(clock.nowMilliseconds, as: "now")
            .from("vm_build_tasks").where("status", .in, ["queued", "running"]).first()
        let now = try row?.optionalInt64("now")
        let oldest = try row?.optionalInt64("oldest")
        return QueueSummary(
            queued: Int(try row?.optionalInt64("queued") ?? 0), running: Int(try row?.optionalInt64("running") ?? 0),
            oldestQueuedAge: oldest.flatMap { oldest in now.map { max(0, Double($0 - oldest) / 1000) } })
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0) }).from("vm_build_tasks")
    }
}

/// The PostgreSQL notification channel new work is announced on.
public enum BuildTaskChannel {
    public static let name = "arrow_build_tasks"
}

/// `FOR UPDATE SKIP LOCKED` where the dialect has row locks (PostgreSQL); nothing on SQLite.
struct SQLSkipLocked: SQLExpression {
    func serialize(to serializer: inout SQLSerializer) {
        guard serializer.dialect.name == "postgresql" else { return }
        serializer.write("FOR UPDATE SKIP LOCKED")
    }
}

/// The database's own clock in Unix milliseconds, so lease deadlines written by one host and judged by another
/// agree whatever the hosts' clocks say.
struct DatabaseClock {
    let db: any SQLDatabase

    init(_ db: any SQLDatabase) { self.db = db }

    var nowMilliseconds: SQLRaw {
        db.dialect.name == "postgresql"
            ? SQLRaw("CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
            : SQLRaw("CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)")
    }

    /// The database's current time.
    func now() async throws -> Date {
        let row = try await db.select().column(nowMilliseconds, as: "now").first()
        return Timestamp.date(try row?.int64("now") ?? Timestamp.from(Date()))
    }
}

/// Encoding of the columns that hold more than a scalar.
enum BuildTaskRow {
    /// ``BuildTaskState/resumePhase`` in SQL: the first phase not among `completed_phases`.
    static var resumePhase: SQLRaw {
        let cases = BuildPhase.allCases.dropLast().map { phase in
            "WHEN (',' || completed_phases || ',') NOT LIKE '%,\(phase.rawValue),%' THEN '\(phase.rawValue)'"
        }
        return SQLRaw("CASE " + cases.joined(separator: " ") + " ELSE '\(BuildPhase.allCases.last!.rawValue)' END")
    }

    static func encode(_ phases: Set<BuildPhase>) -> String {
        phases.sorted().map(\.rawValue).joined(separator: ",")
    }

    static func encode(_ options: BuildOptions) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(options), as: UTF8.self)
    }

    static func decode(_ row: any SQLRow) throws -> BuildTask {
        func value<T: RawRepresentable>(_ column: String, _: T.Type) throws -> T where T.RawValue == String {
            guard let value = T(rawValue: try row.string(column)) else {
                throw DatabaseError(.corruptRow, "vm_build_tasks row has an unknown \(column)")
            }
            return value
        }
        let optionsText = try row.string("build_options")
        // Most tasks have no options: skip the JSON decoder for them (claims decode a row each).
        let options = optionsText == "{}" ? BuildOptions() : try JSONDecoder().decode(BuildOptions.self, from: Data(optionsText.utf8))
        var task = BuildTask(
            id: BuildTaskID(try row.string("id")), organizationID: OrganizationID(try row.string("organization_id")),
            imageID: ImageID(try row.string("image_id")),
            deviceRequestID: try row.optionalString("device_request_id").map { DeviceRequestID($0) },
            deviceType: try value("device_type", DeviceType.self), buildServerID: try row.optionalString("build_server_id"),
            client: try row.string("client"), vmName: try row.optionalString("vm_name"), description: try row.optionalString("description"),
            options: options, notifyOnComplete: try row.int64("notify_on_complete") != 0,
            createdBy: try row.optionalString("created_by").map { UserID($0) },
            createdAt: Timestamp.date(try row.int64("created_at")), updatedAt: Timestamp.date(try row.int64("updated_at")))
        let phases = try row.string("completed_phases").split(separator: ",").map { name in
            guard let phase = BuildPhase(rawValue: String(name)) else { throw DatabaseError(.corruptRow, "vm_build_tasks row has an unknown phase") }
            return phase
        }
        task.state = BuildTaskState(
            status: try value("status", BuildTaskStatus.self),
            phase: try row.optionalString("phase").map { name in
                guard let phase = BuildPhase(rawValue: name) else { throw DatabaseError(.corruptRow, "vm_build_tasks row has an unknown phase") }
                return phase
            },
            attempt: Int(try row.int64("attempt")), leaseToken: try row.optionalString("lease_token"),
            progress: Int(try row.int64("progress")), completedPhases: Set(phases), leaseLosses: Int(try row.int64("lease_losses")),
            errorCode: try row.optionalString("error_code").flatMap(BuildFailureCode.init(rawValue:)),
            errorMessage: try row.optionalString("error_message"),
            artifactImageID: try row.optionalString("artifact_image_id").map { ImageID($0) })
        task.builderID = try row.optionalString("builder_id").map { BuilderID($0) }
        task.leasedUntil = try row.optionalInt64("leased_until").map(Timestamp.date)
        task.startedAt = try row.optionalInt64("started_at").map(Timestamp.date)
        task.finishedAt = try row.optionalInt64("finished_at").map(Timestamp.date)
        return task
    }
}
