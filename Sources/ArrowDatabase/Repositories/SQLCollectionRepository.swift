import ArrowCore
import Foundation
import SQLKit

struct SQLCollectionRepository: CollectionRepository {
    let db: any SQLDatabase

    /// Every image `organization` can see, with why and its default position. Another organization's image is
    /// visible only while active, and only when shared with this one or public.
    private func visible(_ organization: OrganizationID) -> SQLQueryString {
        let org = organization.rawValue
        let columns = SQLImageRepository.columns.map { "images.\($0)" }.joined(separator: ", ")
        return """
            SELECT \(unsafeRaw: columns), d.position AS default_position,
                CASE WHEN images.organization_id = \(bind: org) THEN 'custom'
                     WHEN s.image_id IS NOT NULL THEN 'shared' ELSE 'public' END AS source
            FROM images
            LEFT JOIN image_shares s ON s.image_id = images.id AND s.organization_id = \(bind: org)
            LEFT JOIN org_default_images d ON d.image_id = images.id AND d.organization_id = \(bind: org)
            WHERE (images.organization_id = \(bind: org)
                   OR ((s.image_id IS NOT NULL OR images.is_public = 1) AND images.status = 'active'))
            """
    }

    func entries(organization: OrganizationID, filter: CollectionFilter) async throws -> [CollectionEntry] {
        var query = visible(organization)
        let images = filter.images
        if let status = images.status { query += " AND images.status = \(bind: status.rawValue)" }
        if let format = images.format { query += " AND images.format = \(bind: format)" }
        if let text = images.nameContains, !text.isEmpty {
            query += " AND lower(images.name) LIKE \(bind: SQLImageRepository.likePattern(text)) ESCAPE '\\'"
        }
        if filter.defaultsOnly { query += " AND d.position IS NOT NULL" }
        if !filter.sources.isEmpty {
            let sources = filter.sources.map(\.rawValue).sorted()
            query += """
                 AND (CASE WHEN images.organization_id = \(bind: organization.rawValue) THEN 'custom'
                      WHEN s.image_id IS NOT NULL THEN 'shared' ELSE 'public' END) IN (\(binds: sources))
                """
        }
        query += filter.defaultsOnly ? " ORDER BY d.position, images.id" : " ORDER BY images.created_at DESC, images.id"
        query += " LIMIT \(literal: images.limit) OFFSET \(literal: images.offset)"
        return try await db.raw(query).all().map(Self.decode)
    }

    func entry(image: ImageID, organization: OrganizationID) async throws -> CollectionEntry? {
        try await db.raw(visible(organization) + " AND images.id = \(bind: image.rawValue)").first().map(Self.decode)
    }

    func share(image: ImageID, with organization: OrganizationID, by user: UserID, at: Date) async throws {
        // Sharing twice keeps the first share (both dialects know ON CONFLICT DO NOTHING).
        try await db.insert(into: "image_shares").columns("image_id", "organization_id", "shared_by", "created_at")
            .values(SQLBind(image.rawValue), SQLBind(organization.rawValue), SQLBind(user.rawValue), SQLBind(Timestamp.from(at)))
            .ignoringConflicts(with: ["image_id", "organization_id"]).run()
    }

    func unshare(image: ImageID, from organization: OrganizationID) async throws -> Bool {
        let rows = try await db.delete(from: "image_shares").where("image_id", .equal, image.rawValue)
            .where("organization_id", .equal, organization.rawValue).returning("image_id").all()
        // A recipient that loses the image also loses it as a default.
        try await db.delete(from: "org_default_images").where("image_id", .equal, image.rawValue)
            .where("organization_id", .equal, organization.rawValue).run()
        return !rows.isEmpty
    }

    func shares(image: ImageID) async throws -> [OrganizationID] {
        try await db.select().column("organization_id").from("image_shares").where("image_id", .equal, image.rawValue)
            .orderBy("created_at").all().map { OrganizationID(try $0.string("organization_id")) }
    }

    func setPublic(image: ImageID, _ isPublic: Bool) async throws {
        try await db.update("images").set("is_public", to: isPublic ? 1 : 0).where("id", .equal, image.rawValue).run()
        if !isPublic {
            // Organizations that only saw it because it was public lose it as a default too.
            try await db.raw("""
                DELETE FROM org_default_images WHERE image_id = \(bind: image.rawValue)
                  AND organization_id <> (SELECT organization_id FROM images WHERE id = \(bind: image.rawValue))
                  AND organization_id NOT IN (SELECT organization_id FROM image_shares WHERE image_id = \(bind: image.rawValue))
                """).run()
        }
    }

    func defaults(organization: OrganizationID) async throws -> [ImageID] {
        try await db.select().column("image_id").from("org_default_images").where("organization_id", .equal, organization.rawValue)
            .orderBy("position").all().map { ImageID(try $0.string("image_id")) }
    }

    func setDefaults(organization: OrganizationID, _ images: [ImageID], at: Date) async throws {
        try await db.delete(from: "org_default_images").where("organization_id", .equal, organization.rawValue).run()
        guard !images.isEmpty else { return }
        var insert = db.insert(into: "org_default_images").columns("organization_id", "image_id", "position", "created_at")
        for (position, image) in images.enumerated() {
            insert = insert.values(SQLBind(organization.rawValue), SQLBind(image.rawValue), SQLBind(position), SQLBind(Timestamp.from(at)))
        }
        try await insert.run()
    }

    func forget(image: ImageID) async throws {
        try await db.delete(from: "image_shares").where("image_id", .equal, image.rawValue).run()
        try await db.delete(from: "org_default_images").where("image_id", .equal, image.rawValue).run()
    }

    static func decode(_ row: any SQLRow) throws -> CollectionEntry {
        guard let source = CollectionSource(rawValue: try row.string("source")) else {
            throw DatabaseError(.corruptRow, "collection row has an unknown source")
        }
        return CollectionEntry(image: try SQLImageRepository.decode(row), source: source,
                               defaultPosition: try row.optionalInt64("default_position").map { Int($0) })
    }
}
