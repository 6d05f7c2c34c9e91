import ArrowCore
import Foundation
import SQLKit

struct SQLUploadSessionRepository: UploadSessionRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "organization_id", "user_id", "image_id", "file_name", "file_type", "file_size", "part_size", "storage_key",
        "store_upload_id", "fields", "status", "created_at", "updated_at", "expires_at",
    ]

    func create(_ session: UploadSession) async throws {
        let fields = String(decoding: try JSONEncoder().encode(session.fields), as: UTF8.self)
        try await db.insert(into: "uploads").columns(Self.columns).values(
            SQLBind(session.id.rawValue), SQLBind(session.organizationID.rawValue), SQLBind(session.userID.rawValue),
            SQLBind(session.imageID.rawValue), SQLBind(session.fileName), SQLBind(session.fileType), SQLBind(session.fileSize),
            SQLBind(session.partSize), SQLBind(session.storageKey), SQLBind(session.storeUploadID), SQLBind(fields),
            SQLBind(session.status.rawValue), SQLBind(Timestamp.from(session.createdAt)), SQLBind(Timestamp.from(session.updatedAt)),
            SQLBind(Timestamp.from(session.expiresAt))
        ).run()
    }

    func find(id: UploadSessionID, scope: AccessScope) async throws -> UploadSession? {
        try await select().where("id", .equal, id.rawValue).scoped(scope).first().map(Self.decode)
    }

    func transition(id: UploadSessionID, from: Set<UploadSessionStatus>, to: UploadSessionStatus, at: Date) async throws -> Bool {
        // One conditional UPDATE: of two racing completions, exactly one sees its row change.
        let rows = try await db.update("uploads")
            .set("status", to: to.rawValue).set("updated_at", to: Timestamp.from(at))
            .where("id", .equal, id.rawValue).where("status", .in, from.map(\.rawValue).sorted())
            .returning("id").all()
        return !rows.isEmpty
    }

    func expired(before: Date, limit: Int) async throws -> [UploadSession] {
        try await select().where("status", .in, [UploadSessionStatus.open, .completing, .assembled].map(\.rawValue))
            .where("expires_at", .lessThan, Timestamp.from(before)).orderBy("expires_at").limit(limit).all().map(Self.decode)
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0) }).from("uploads")
    }

    static func decode(_ row: any SQLRow) throws -> UploadSession {
        guard let status = UploadSessionStatus(rawValue: try row.string("status")) else {
            throw DatabaseError(.corruptRow, "uploads row has an unknown status")
        }
        return UploadSession(
            id: UploadSessionID(try row.string("id")), organizationID: OrganizationID(try row.string("organization_id")),
            userID: UserID(try row.string("user_id")), imageID: ImageID(try row.string("image_id")),
            fileName: try row.string("file_name"), fileType: try row.optionalString("file_type"),
            fileSize: try row.int64("file_size"), partSize: try row.int64("part_size"), storageKey: try row.string("storage_key"),
            storeUploadID: try row.string("store_upload_id"),
            fields: try JSONDecoder().decode([String: String].self, from: Data(try row.string("fields").utf8)),
            status: status, createdAt: Timestamp.date(try row.int64("created_at")),
            updatedAt: Timestamp.date(try row.int64("updated_at")), expiresAt: Timestamp.date(try row.int64("expires_at")))
    }
}
