import ArrowCore
import Foundation
import SQLKit

struct SQLBuildTemplateRepository: BuildTemplateRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "organization_id", "name", "revision", "definition", "schedule", "time_zone", "next_run_at", "require_verification",
        "promote_to_default", "latest_artifact_id", "last_base_image_id", "created_by", "created_at", "updated_at",
    ]
    static let runColumns = [
        "id", "template_id", "organization_id", "revision", "trigger_kind", "trigger_key", "task_id", "status", "message",
        "artifact_image_id", "previous_artifact_id", "diff", "created_at", "finished_at",
    ]

    func insert(_ template: BuildTemplate) async throws -> Bool {
        !(try await db.insert(into: "build_templates").columns(Self.columns).values(try Self.values(template))
            .ignoringConflicts(with: ["organization_id", "name"]).returning("id").all()).isEmpty
    }

    func update(_ template: BuildTemplate, expectedRevision: Int) async throws -> Bool {
        let values = try Self.values(template)
        var update = db.update("build_templates")
        for (column, value) in zip(Self.columns, values) where !["id", "organization_id", "created_by", "created_at"].contains(column) {
            update = update.set(SQLColumn(column), to: value)
        }
        return !(try await update.where("id", .equal, template.id.rawValue).where("organization_id", .equal, template.organizationID.rawValue)
            .where("revision", .equal, expectedRevision).returning("id").all()).isEmpty
    }

    func find(id: BuildTemplateID, organization: OrganizationID?) async throws -> BuildTemplate? {
        var query = select().where("id", .equal, id.rawValue)
        if let organization { query = query.where("organization_id", .equal, organization.rawValue) }
        return try await query.first().map(Self.template)
    }

    func list(organization: OrganizationID) async throws -> [BuildTemplate] {
        try await select().where("organization_id", .equal, organization.rawValue).orderBy("name").all().map(Self.template)
    }

    /// The template's runs go with it (`ON DELETE CASCADE`; SQLite enforces foreign keys here too).
    func delete(id: BuildTemplateID, organization: OrganizationID) async throws -> Bool {
        !(try await db.delete(from: "build_templates").where("id", .equal, id.rawValue).where("organization_id", .equal, organization.rawValue)
            .returning("id").all()).isEmpty
    }

    func due(at: Date, limit: Int) async throws -> [BuildTemplate] {
        try await select().where("next_run_at", .isNot, SQLLiteral.null).where("next_run_at", .lessThanOrEqual, Timestamp.from(at))
            .orderBy("next_run_at").limit(limit).all().map(Self.template)
    }

    func followingBase(limit: Int) async throws -> [BuildTemplate] {
        // `definition` is JSON text; the flag is read in Swift (a JSON operator differs between the two databases).
        try await select().where("last_base_image_id", .isNot, SQLLiteral.null).orderBy("id").limit(limit).all().map(Self.template)
            .filter(\.definition.followLatest)
    }

    func setNextRun(id: BuildTemplateID, from: Date?, to: Date?) async throws {
        var update = db.update("build_templates").set("next_run_at", to: to.map(Timestamp.from)).where("id", .equal, id.rawValue)
        update = from.map { update.where("next_run_at", .equal, Timestamp.from($0)) } ?? update.where("next_run_at", .is, SQLLiteral.null)
        try await update.run()
    }

    func setLastBase(id: BuildTemplateID, image: ImageID) async throws {
        try await db.update("build_templates").set("last_base_image_id", to: image.rawValue).where("id", .equal, id.rawValue).run()
    }

    func setLatestArtifact(id: BuildTemplateID, image: ImageID) async throws {
        try await db.update("build_templates").set("latest_artifact_id", to: image.rawValue).where("id", .equal, id.rawValue).run()
    }

    func activeSuccessor(of image: ImageID) async throws -> ImageID? {
        try await db.select().column("id").from("images").where("previous_version_id", .equal, image.rawValue).where("status", .equal, "active")
            .orderBy("created_at", .descending).limit(1).first().map { ImageID(try $0.string("id")) }
    }

    func insertRun(_ run: TemplateRun) async throws -> Bool {
        !(try await db.insert(into: "template_runs").columns(Self.runColumns).values(try Self.values(run))
            .ignoringConflicts(with: ["template_id", "trigger_key"]).returning("id").all()).isEmpty
    }

    func runs(template: BuildTemplateID, limit: Int) async throws -> [TemplateRun] {
        try await selectRuns().where("template_id", .equal, template.rawValue).orderBy("created_at", .descending).orderBy("id", .descending)
            .limit(limit).all().map(Self.run)
    }

    func openRuns(limit: Int) async throws -> [TemplateRun] {
        try await selectRuns().where("status", .equal, TemplateRun.Status.building.rawValue).orderBy("created_at").limit(limit).all().map(Self.run)
    }

    func finishRun(_ run: TemplateRun) async throws -> Bool {
        !(try await db.update("template_runs").set("status", to: run.status.rawValue).set("message", to: run.message)
            .set("artifact_image_id", to: run.artifactImageID?.rawValue).set("previous_artifact_id", to: run.previousArtifactID?.rawValue)
            .set("diff", to: try Self.text(run.diff))
            .set("finished_at", to: run.finishedAt.map(Timestamp.from))
            .where("id", .equal, run.id.rawValue).where("status", .equal, TemplateRun.Status.building.rawValue).returning("id").all()).isEmpty
    }

    private func select() -> SQLSelectBuilder { db.select().columns(Self.columns.map { SQLColumn($0) }).from("build_templates") }
    private func selectRuns() -> SQLSelectBuilder { db.select().columns(Self.runColumns.map { SQLColumn($0) }).from("template_runs") }

    static func values(_ t: BuildTemplate) throws -> [any SQLExpression] {
        [SQLBind(t.id.rawValue), SQLBind(t.organizationID.rawValue), SQLBind(t.name), SQLBind(t.revision),
         SQLBind(String(decoding: try JSONEncoder().encode(t.definition), as: UTF8.self)), SQLBind(t.schedule), SQLBind(t.timeZone),
         SQLBind(t.nextRunAt.map(Timestamp.from)), SQLBind(t.requireVerification ? 1 : 0), SQLBind(t.promoteToDefault ? 1 : 0),
         SQLBind(t.latestArtifactID?.rawValue), SQLBind(t.lastBaseImageID?.rawValue), SQLBind(t.createdBy?.rawValue),
         SQLBind(Timestamp.from(t.createdAt)), SQLBind(Timestamp.from(t.updatedAt))]
    }

    static func values(_ r: TemplateRun) throws -> [any SQLExpression] {
        [SQLBind(r.id.rawValue), SQLBind(r.templateID.rawValue), SQLBind(r.organizationID.rawValue), SQLBind(r.revision),
         SQLBind(r.trigger.rawValue), SQLBind(r.triggerKey), SQLBind(r.taskID?.rawValue), SQLBind(r.status.rawValue), SQLBind(r.message),
         SQLBind(r.artifactImageID?.rawValue), SQLBind(r.previousArtifactID?.rawValue),
         SQLBind(try Self.text(r.diff)),
         SQLBind(Timestamp.from(r.createdAt)), SQLBind(r.finishedAt.map(Timestamp.from))]
    }

    static func text(_ diff: ContentsDiff?) throws -> String? {
        try diff.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
    }

    static func template(_ row: any SQLRow) throws -> BuildTemplate {
        BuildTemplate(
            id: BuildTemplateID(try row.string("id")), organizationID: OrganizationID(try row.string("organization_id")),
            name: try row.string("name"), revision: Int(try row.int64("revision")),
            definition: try JSONDecoder().decode(BuildTemplate.Definition.self, from: Data(try row.string("definition").utf8)),
            schedule: try row.optionalString("schedule"), timeZone: try row.string("time_zone"),
            nextRunAt: try row.optionalInt64("next_run_at").map(Timestamp.date),
            requireVerification: try row.int64("require_verification") != 0, promoteToDefault: try row.int64("promote_to_default") != 0,
            latestArtifactID: try row.optionalString("latest_artifact_id").map { ImageID($0) },
            lastBaseImageID: try row.optionalString("last_base_image_id").map { ImageID($0) },
            createdBy: try row.optionalString("created_by").map { UserID($0) }, createdAt: Timestamp.date(try row.int64("created_at")),
            updatedAt: Timestamp.date(try row.int64("updated_at")))
    }

    static func run(_ row: any SQLRow) throws -> TemplateRun {
        guard let trigger = TemplateRun.Trigger(rawValue: try row.string("trigger_kind")),
              let status = TemplateRun.Status(rawValue: try row.string("status")) else {
            throw DatabaseError(.corruptRow, "template_runs row with an unknown trigger or status")
        }
        return TemplateRun(
            id: TemplateRunID(try row.string("id")), templateID: BuildTemplateID(try row.string("template_id")),
            organizationID: OrganizationID(try row.string("organization_id")), revision: Int(try row.int64("revision")), trigger: trigger,
            triggerKey: try row.string("trigger_key"), taskID: try row.optionalString("task_id").map { BuildTaskID($0) }, status: status,
            message: try row.optionalString("message"), artifactImageID: try row.optionalString("artifact_image_id").map { ImageID($0) },
            previousArtifactID: try row.optionalString("previous_artifact_id").map { ImageID($0) },
            diff: try row.optionalString("diff").map { try JSONDecoder().decode(ContentsDiff.self, from: Data($0.utf8)) },
            createdAt: Timestamp.date(try row.int64("created_at")), finishedAt: try row.optionalInt64("finished_at").map(Timestamp.date))
    }
}
