import ArrowCore
import Foundation
import SQLKit

struct SQLImageBuildRepository: ImageBuildRepository {
    let db: any SQLDatabase

    func record(_ build: ImageBuildRecord) async throws {
        try await db.insert(into: "image_builds").columns("image_id", "task_id", "organization_id", "provenance", "created_at")
            .values(SQLBind(build.imageID.rawValue), SQLBind(build.taskID.rawValue), SQLBind(build.organizationID.rawValue),
                    SQLBind(build.provenance), SQLBind(Timestamp.from(build.createdAt)))
            .onConflict(with: ["image_id"]) { $0.set(excludedValueOf: "provenance").set(excludedValueOf: "task_id") }
            .run()
    }

    func find(image: ImageID) async throws -> ImageBuildRecord? {
        try await db.select().columns(Self.columns).from("image_builds").where("image_id", .equal, image.rawValue).first().map(Self.decode)
    }

    func latest(task: BuildTaskID) async throws -> ImageBuildRecord? {
        try await db.select().columns(Self.columns).from("image_builds").where("task_id", .equal, task.rawValue)
            .orderBy("created_at", .descending).orderBy("image_id", .descending).limit(1).first().map(Self.decode)
    }

    static let columns = ["image_id", "task_id", "organization_id", "provenance", "created_at"].map { SQLColumn($0) }

    static func decode(_ row: any SQLRow) throws -> ImageBuildRecord {
        ImageBuildRecord(
            imageID: ImageID(try row.string("image_id")), taskID: BuildTaskID(try row.string("task_id")),
            organizationID: OrganizationID(try row.string("organization_id")), provenance: try row.string("provenance"),
            createdAt: Timestamp.date(try row.int64("created_at")))
    }
}
