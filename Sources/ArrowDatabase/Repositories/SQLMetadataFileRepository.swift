import ArrowCore
import Foundation
import SQLKit

struct SQLMetadataFileRepository: MetadataFileRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "image_id", "organization_id", "kind", "file_name", "content_type", "file_size", "sha256", "storage_key",
        "created_by", "created_at",
    ]

    func create(_ file: MetadataFile) async throws {
        try await db.insert(into: "metadata_files").columns(Self.columns).values(
            SQLBind(file.id.rawValue), SQLBind(file.imageID.rawValue), SQLBind(file.organizationID.rawValue), SQLBind(file.kind.rawValue),
            SQLBind(file.fileName), SQLBind(file.contentType), SQLBind(file.fileSize), SQLBind(file.sha256), SQLBind(file.storageKey),
            SQLBind(file.createdBy?.rawValue), SQLBind(Timestamp.from(file.createdAt))
        ).run()
    }

    func list(image: ImageID) async throws -> [MetadataFile] {
        try await select().where("image_id", .equal, image.rawValue).orderBy("created_at").orderBy("id").all().map(Self.decode)
    }

    func find(id: MetadataFileID, image: ImageID) async throws -> MetadataFile? {
        try await select().where("id", .equal, id.rawValue).where("image_id", .equal, image.rawValue).first().map(Self.decode)
    }

    func delete(id: MetadataFileID) async throws -> Bool {
        !(try await db.delete(from: "metadata_files").where("id", .equal, id.rawValue).returning("id").all()).isEmpty
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0) }).from("metadata_files")
    }

    static func decode(_ row: any SQLRow) throws -> MetadataFile {
        guard let kind = MetadataFile.Kind(rawValue: try row.string("kind")) else {
            throw DatabaseError(.corruptRow, "metadata_files row has an unknown kind")
        }
        return MetadataFile(
            id: MetadataFileID(try row.string("id")), imageID: ImageID(try row.string("image_id")),
            organizationID: OrganizationID(try row.string("organization_id")), kind: kind, fileName: try row.string("file_name"),
            contentType: try row.string("content_type"), fileSize: try row.int64("file_size"), sha256: try row.string("sha256"),
            storageKey: try row.string("storage_key"), createdBy: try row.optionalString("created_by").map { UserID($0) },
            createdAt: Timestamp.date(try row.int64("created_at")))
    }
}
