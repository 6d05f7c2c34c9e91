import ArrowCore
import Foundation
import SQLKit

struct SQLServerInstanceRepository: ServerInstanceRepository {
    let db: any SQLDatabase

    func heartbeat(_ instance: ServerInstance) async throws {
        let updated = try await db.select().column("id").from("server_instances").where("id", .equal, instance.id).first()
        if updated != nil {
            try await db.update("server_instances").set("heartbeat_at", to: Timestamp.from(instance.heartbeatAt))
                .where("id", .equal, instance.id).run()
        } else {
            try await db.insert(into: "server_instances").columns("id", "host", "pid", "started_at", "heartbeat_at")
                .values(SQLBind(instance.id), SQLBind(instance.host), SQLBind(instance.pid),
                        SQLBind(Timestamp.from(instance.startedAt)), SQLBind(Timestamp.from(instance.heartbeatAt))).run()
        }
    }

    func all() async throws -> [ServerInstance] {
        try await db.select().columns("id", "host", "pid", "started_at", "heartbeat_at").from("server_instances").all().map { row in
            ServerInstance(id: try row.string("id"), host: try row.string("host"), pid: try row.int64("pid"),
                           startedAt: Timestamp.date(try row.int64("started_at")), heartbeatAt: Timestamp.date(try row.int64("heartbeat_at")))
        }
    }

    func remove(id: String) async throws {
        try await db.delete(from: "server_instances").where("id", .equal, id).run()
    }
}
