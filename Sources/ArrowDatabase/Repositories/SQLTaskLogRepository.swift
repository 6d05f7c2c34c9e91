import ArrowCore
import Foundation
import SQLKit

struct SQLTaskLogRepository: TaskLogRepository {
    let db: any SQLDatabase

    func append(_ chunk: TaskLogChunk) async throws -> Bool {
        // ON CONFLICT DO NOTHING: a retried POST of the same chunk is a no-op, in both dialects.
        !(try await db.insert(into: "task_log_chunks").columns("task_id", "attempt", "file", "sequence", "content", "created_at").values(
            SQLBind(chunk.taskID.rawValue), SQLBind(chunk.attempt), SQLBind(chunk.file.rawValue), SQLBind(chunk.sequence),
            SQLBind(chunk.content), SQLBind(Timestamp.from(chunk.createdAt))
        ).ignoringConflicts(with: ["task_id", "file", "attempt", "sequence"]).returning("sequence").all()).isEmpty
    }

    func chunks(task: BuildTaskID, file: StorageLayout.BuildLog, after position: TaskLogChunk.Position?) async throws -> [TaskLogChunk] {
        var query = db.select().columns("attempt", "sequence", "content", "created_at").from("task_log_chunks")
            .where("task_id", .equal, task.rawValue).where("file", .equal, file.rawValue)
        if let position {
            query = query.where(group: { group in
                group.where("attempt", .greaterThan, position.attempt)
                    .orWhere(group: { $0.where("attempt", .equal, position.attempt).where("sequence", .greaterThan, position.sequence) })
            })
        }
        return try await query.orderBy("attempt").orderBy("sequence").all().map { row in
            TaskLogChunk(
                taskID: task, attempt: Int(try row.int64("attempt")), file: file, sequence: Int(try row.int64("sequence")),
                content: try row.string("content"), createdAt: Timestamp.date(try row.int64("created_at")))
        }
    }

    func unarchived(limit: Int) async throws -> [BuildTask] {
        try await db.select().columns(SQLBuildTaskRepository.columns.map { SQLColumn($0) }).from("vm_build_tasks")
            .where("status", .in, BuildTaskStatus.allCases.filter { !$0.isOpen }.map(\.rawValue))
            .where("logs_archived_at", .is, SQLLiteral.null).where("finished_at", .isNot, SQLLiteral.null)
            .orderBy("finished_at").limit(limit).all().map(BuildTaskRow.decode)
    }

    func claimArchiving(task: BuildTaskID, at: Date) async throws -> Bool {
        !(try await db.update("vm_build_tasks").set("logs_archived_at", to: Timestamp.from(at)).where("id", .equal, task.rawValue)
            .where("logs_archived_at", .is, SQLLiteral.null).returning("id").all()).isEmpty
    }

    func releaseArchiving(task: BuildTaskID) async throws {
        try await db.update("vm_build_tasks").set("logs_archived_at", to: Int64?.none).where("id", .equal, task.rawValue).run()
    }
}
