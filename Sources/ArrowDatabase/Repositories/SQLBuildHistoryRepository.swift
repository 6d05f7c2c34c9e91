import ArrowCore
import Foundation
import SQLKit

struct SQLBuildHistoryRepository: BuildHistoryRepository {
    let db: any SQLDatabase

    func recordPhaseChange(task: BuildTaskID, attempt: Int, from: BuildPhase?, fromStartedAt: Date?, to: BuildPhase?, at: Date) async throws -> Date? {
        let now = Timestamp.from(at)
        var started: Date?
        if let from {
            // The claim starts the first phase of an attempt without a row (claims are the hot path); its row is
            // written here when that phase ends.
            started = try await db.insert(into: "vm_build_task_phases").columns("task_id", "attempt", "phase", "started_at", "finished_at")
                .values(SQLBind(task.rawValue), SQLBind(attempt), SQLBind(from.rawValue), SQLBind(Timestamp.from(fromStartedAt ?? at)), SQLBind(now))
                .onConflict(with: ["task_id", "attempt", "phase"]) { $0.set("finished_at", to: now) }
                .returning("started_at").first().map { Timestamp.date(try $0.int64("started_at")) }
        }
        if let to, to != from {
            try await db.insert(into: "vm_build_task_phases").columns("task_id", "attempt", "phase", "started_at", "finished_at")
                .values(SQLBind(task.rawValue), SQLBind(attempt), SQLBind(to.rawValue), SQLBind(now), SQLBind(Int64?.none))
                .ignoringConflicts(with: ["task_id", "attempt", "phase"]).run()
        }
        return started
    }

    func phases(task: BuildTaskID) async throws -> [PhaseTiming] {
        try await db.select().columns("attempt", "phase", "started_at", "finished_at").from("vm_build_task_phases")
            .where("task_id", .equal, task.rawValue).orderBy("attempt").orderBy("started_at").all().map { row in
                guard let phase = BuildPhase(rawValue: try row.string("phase")) else {
                    throw DatabaseError(.corruptRow, "vm_build_task_phases row has an unknown phase")
                }
                return PhaseTiming(attempt: Int(try row.int64("attempt")), phase: phase, startedAt: Timestamp.date(try row.int64("started_at")),
                                   finishedAt: try row.optionalInt64("finished_at").map(Timestamp.date))
            }
    }

    func finished(since: Date, scope: AccessScope, limit: Int) async throws -> [FinishedBuild] {
        try await db.select().columns("organization_id", "image_id", "status", "error_code", "started_at", "finished_at")
            .from("vm_build_tasks").where("finished_at", .greaterThanOrEqual, Timestamp.from(since)).scoped(scope)
            .orderBy("finished_at", .descending).limit(limit).all().map { row in
                guard let status = BuildTaskStatus(rawValue: try row.string("status")) else {
                    throw DatabaseError(.corruptRow, "vm_build_tasks row has an unknown status")
                }
                let started = try row.optionalInt64("started_at"), finished = try row.optionalInt64("finished_at")
                return FinishedBuild(
                    organizationID: OrganizationID(try row.string("organization_id")), imageID: ImageID(try row.string("image_id")),
                    status: status, errorCode: try row.optionalString("error_code").flatMap(BuildFailureCode.init(rawValue:)),
                    duration: started.flatMap { start in finished.map { Double($0 - start) / 1000 } })
            }
    }
}
