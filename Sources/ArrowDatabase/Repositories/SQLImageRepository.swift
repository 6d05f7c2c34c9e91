import ArrowCore
import Foundation
import SQLKit

struct SQLImageRepository: ImageRepository {
    let db: any SQLDatabase

    static let columns = [
        "id", "organization_id", "name", "description", "file_name", "file_size", "file_type", "storage_key", "format",
        "virtual_size", "sha256", "status", "software", "ansible_flags", "version", "previous_version_id", "uploaded_by",
        "created_at", "updated_at", "is_public", "download_url",
    ]

    func create(_ image: Image, uploadOwner: String?) async throws {
        try await db.insert(into: "images").columns(Self.columns + ["upload_owner"])
            .values(try Self.values(image) + [SQLBind(uploadOwner)]).run()
    }

    func orphanedUploads(liveOwners: Set<String>, limit: Int) async throws -> [Image] {
        var query = select().where("status", .equal, ImageStatus.uploading.rawValue)
        if !liveOwners.isEmpty {
            query = query.where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("upload_owner"), .is, SQLLiteral.null), .or,
                SQLBinaryExpression(SQLColumn("upload_owner"), .notIn, SQLGroupExpression(liveOwners.sorted().map { SQLBind($0) })))))
        }
        return try await query.orderBy("updated_at").limit(limit).all().map(Self.decode)
    }

    func find(id: ImageID, scope: AccessScope) async throws -> Image? {
        try await select().where("id", .equal, id.rawValue).scoped(scope).first().map(Self.decode)
    }

    func list(organization: OrganizationID?, filter: ImageFilter, scope: AccessScope) async throws -> [Image] {
        var query = select().scoped(scope)
        if let organization { query = query.where("organization_id", .equal, organization.rawValue) }
        if let status = filter.status { query = query.where("status", .equal, status.rawValue) }
        if let format = filter.format { query = query.where("format", .equal, format) }
        if let text = filter.nameContains, !text.isEmpty {
            query = query.where(SQLBinaryExpression(
                SQLFunction("lower", args: SQLColumn("name")), .like,
                SQLList([SQLBind(Self.likePattern(text)), SQLRaw("ESCAPE '\\'")], separator: SQLRaw(" "))))
        }
        return try await query.orderBy("created_at", .descending).orderBy("id").limit(filter.limit).offset(filter.offset)
            .all().map(Self.decode)
    }

    func update(_ image: Image, scope: AccessScope) async throws -> Bool {
        guard try await find(id: image.id, scope: scope) != nil else { return false }
        try await db.update("images")
            .set("name", to: image.name).set("description", to: image.description)
            .set("file_name", to: image.fileName).set("file_size", to: image.fileSize).set("file_type", to: image.fileType)
            .set("storage_key", to: image.storageKey).set("format", to: image.format).set("virtual_size", to: image.virtualSize)
            .set("sha256", to: image.sha256).set("status", to: image.status.rawValue).set("version", to: image.version)
            .set("previous_version_id", to: image.previousVersionID?.rawValue)
            .set("software", to: try Self.json(image.software)).set("ansible_flags", to: try Self.json(image.ansibleFlags.enabled.sorted()))
            .set("updated_at", to: Timestamp.from(image.updatedAt)).set("is_public", to: image.isPublic ? 1 : 0)
            .set("download_url", to: image.downloadURL)
            .where("id", .equal, image.id.rawValue).scoped(scope).run()
        return true
    }

    func setStatus(id: ImageID, from: ImageStatus, to: ImageStatus, at: Date) async throws -> Bool {
        try await db.update("images").set("status", to: to.rawValue).set("updated_at", to: Timestamp.from(at))
            .where("id", .equal, id.rawValue).where("status", .equal, from.rawValue)
            .returning("id").all().isEmpty == false
    }

    func delete(id: ImageID) async throws -> Bool {
        let existed = try await db.select().column("id").from("images").where("id", .equal, id.rawValue).first() != nil
        try await db.delete(from: "images").where("id", .equal, id.rawValue).run()
        return existed
    }

    func stale(status: ImageStatus, before: Date, limit: Int) async throws -> [Image] {
        try await select().where("status", .equal, status.rawValue).where("updated_at", .lessThan, Timestamp.from(before))
            .orderBy("updated_at").limit(limit).all().map(Self.decode)
    }

    /// A case-insensitive substring pattern for `LIKE … ESCAPE '\'`, with the user's `%`, `_` and `\` taken literally.
    static func likePattern(_ text: String) -> String {
        "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    private func select() -> SQLSelectBuilder {
        db.select().columns(Self.columns.map { SQLColumn($0, table: "images") }).from("images")
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func values(_ image: Image) throws -> [any SQLExpression] {
        [
            SQLBind(image.id.rawValue), SQLBind(image.organizationID.rawValue), SQLBind(image.name), SQLBind(image.description),
            SQLBind(image.fileName), SQLBind(image.fileSize), SQLBind(image.fileType), SQLBind(image.storageKey),
            SQLBind(image.format), SQLBind(image.virtualSize), SQLBind(image.sha256), SQLBind(image.status.rawValue),
            SQLBind(try json(image.software)), SQLBind(try json(image.ansibleFlags.enabled.sorted())), SQLBind(image.version),
            SQLBind(image.previousVersionID?.rawValue), SQLBind(image.uploadedBy?.rawValue),
            SQLBind(Timestamp.from(image.createdAt)), SQLBind(Timestamp.from(image.updatedAt)), SQLBind(image.isPublic ? 1 : 0),
            SQLBind(image.downloadURL),
        ]
    }

    static func decode(_ row: any SQLRow) throws -> Image {
        guard let status = ImageStatus(rawValue: try row.string("status")) else {
            throw DatabaseError(.corruptRow, "images row has an unknown status")
        }
        let software = try JSONDecoder().decode([SoftwareEntry].self, from: Data(try row.string("software").utf8))
        let flags = try JSONDecoder().decode([String].self, from: Data(try row.string("ansible_flags").utf8))
        return Image(
            id: ImageID(try row.string("id")), organizationID: OrganizationID(try row.string("organization_id")),
            name: try row.string("name"), description: try row.optionalString("description"), fileName: try row.string("file_name"),
            fileSize: try row.int64("file_size"), fileType: try row.string("file_type"), storageKey: try row.string("storage_key"),
            format: try row.string("format"), virtualSize: try row.int64("virtual_size"), sha256: try row.string("sha256"),
            status: status, software: software, ansibleFlags: try AnsibleFlags(enabled: Set(flags)),
            version: Int(try row.int64("version")), previousVersionID: try row.optionalString("previous_version_id").map { ImageID($0) },
            uploadedBy: try row.optionalString("uploaded_by").map { UserID($0) },
            createdAt: Timestamp.date(try row.int64("created_at")), updatedAt: Timestamp.date(try row.int64("updated_at")),
            isPublic: try row.int64("is_public") != 0, downloadURL: try row.optionalString("download_url"))
    }
}

struct SQLUploadAttemptRepository: UploadAttemptRepository {
    let db: any SQLDatabase

    func lock(user: UserID) async throws {
        // FOR UPDATE is a no-op in SQLite's dialect, where the transaction already holds the single writer lock.
        _ = try await db.select().column("id").from("users").where("id", .equal, user.rawValue).for(.update).first()
    }

    func record(user: UserID, at: Date) async throws {
        try await db.insert(into: "upload_attempts").columns("user_id", "created_at")
            .values(SQLBind(user.rawValue), SQLBind(Timestamp.from(at))).run()
    }

    func attempts(user: UserID, since: Date) async throws -> [Date] {
        try await db.select().column("created_at").from("upload_attempts").where("user_id", .equal, user.rawValue)
            .where("created_at", .greaterThan, Timestamp.from(since)).orderBy("created_at").all()
            .map { Timestamp.date(try $0.int64("created_at")) }
    }
}
