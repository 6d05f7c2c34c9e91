import ArrowCore
import Foundation
import Logging

/// Reading and managing images that exist: the collection, metadata edits, versions, deletion, downloads.
extension ImageRegistry {
    /// The organization's collection (the caller's own unless a superuser names another): its custom images, those
    /// shared with it and public ones, each saying why it is there and where it stands among the defaults.
    public func collection(principal: Principal, organization requested: String?, filter: CollectionFilter) async throws -> [CollectionEntry] {
        try principal.requireHuman()
        try principal.require(.imageRead)
        return try await entries(principal: principal, organization: requested, filter: filter)
    }

    /// The collection without the read permission check: what an admin operation answers with after its change.
    func entries(principal: Principal, organization requested: String?, filter: CollectionFilter) async throws -> [CollectionEntry] {
        if let organization = try viewingOrganization(principal, requested: requested) {
            return try await repos.collections.entries(organization: organization, filter: filter)
        }
        // A superuser outside any organization, naming none: every organization's images, as their owners see them.
        return try await repos.images.list(organization: nil, filter: filter.images, scope: principal.scope)
            .map { CollectionEntry(image: $0, source: .custom, defaultPosition: nil) }
    }

    private func viewingOrganization(_ principal: Principal, requested: String?) throws -> OrganizationID? {
        guard let requested, !requested.isEmpty else { return principal.user.organizationID }
        let organization = OrganizationID(requested)
        try principal.requireAccess(to: organization)
        return organization
    }

    /// An image in the caller's collection (its own, shared with it, or public), in any status but deleted.
    public func entry(id: String, principal: Principal) async throws -> CollectionEntry {
        try principal.requireHuman()
        try principal.require(.imageRead)
        if let organization = principal.user.organizationID,
           let entry = try await repos.collections.entry(image: ImageID(id), organization: organization),
           entry.image.status != .deleted {
            return entry
        }
        // Superusers see every image, as its owner does.
        guard principal.isSuperuser, let image = try await repos.images.find(id: ImageID(id), scope: .all), image.status != .deleted,
              let entry = try await repos.collections.entry(image: image.id, organization: image.organizationID)
        else { throw ArrowError.notFound("Image") }
        return entry
    }

    /// An image of the caller's own organization (or any, for a superuser), in any status but deleted: what may be
    /// edited, shared or deleted. Shared and public images are read-only to their recipients. `permission` is what
    /// the operation needs (an `image.admin` token edits without also holding `image.read`).
    public func image(id: String, principal: Principal, needing permission: Permission) async throws -> Image {
        try principal.requireHuman()
        try principal.require(permission)
        guard let image = try await repos.images.find(id: ImageID(id), scope: principal.scope), image.status != .deleted else {
            throw ArrowError.notFound("Image")
        }
        return image
    }

    /// The image and every earlier version the caller may see, newest first.
    public func versions(id: String, principal: Principal) async throws -> [Image] {
        var chain = [try await entry(id: id, principal: principal).image]
        while let previous = chain.last?.previousVersionID, chain.count < 1000,
              let image = try await repos.images.find(id: previous, scope: principal.scope) {
            chain.append(image)
        }
        return chain
    }

    /// Metadata edits; nil fields stay as they are. Fields are validated as at upload.
    public func update(id: String, fields: ImageUploadFields, principal: Principal) async throws -> Image {
        try principal.require(.imageAdmin)
        var image = try await image(id: id, principal: principal, needing: .imageAdmin)
        guard image.status == .active else { throw ArrowError(.conflict, reason: "image_not_active", "Only active images can be edited") }
        if let name = fields.name { image.name = try ImageMetadataRules.validate(name: name) }
        if let description = fields.description {
            image.description = try ImageMetadataRules.validate(description: description.isEmpty ? nil : description)
        }
        if let software = fields.software {
            image.software = try ImageMetadataRules.validate(software: try ImageUploadFields.decodeSoftware(software))
        }
        if let flags = fields.ansibleFlags { image.ansibleFlags = try ImageUploadFields.decodeFlags(flags) }
        return try await save(image, action: .imageUpdated, by: principal)
    }

    /// Soft delete: the row stays (as `deleted`, for history and version links); its shares and default selections
    /// go with it, then the bytes. Refused with 409 `image_in_use` while a queued or running build or an open device
    /// request, of any organization, still needs the image.
    public func delete(id: String, principal: Principal) async throws {
        try principal.require(.imageAdmin)
        let image = try await image(id: id, principal: principal, needing: .imageAdmin)
        let now = clock.now()
        try await store.transaction { repos in
            // Compare-and-set: of concurrent deletes of the same image exactly one moves it; the others find it gone.
            // The row lock it takes also makes a concurrent enqueue either commit first (and be counted below) or
            // wait and then find the image deleted.
            guard try await repos.images.setStatus(id: image.id, from: image.status, to: .deleted, at: now) else {
                throw ArrowError.notFound("Image")
            }
            let usage = try await repos.imageUsage.usage(image: image.id)
            guard usage.isEmpty else { throw Self.inUse(usage) }
            try await repos.collections.forget(image: image.id)
            try await repos.audit.append(AuditEvent(
                organizationID: image.organizationID, actorID: principal.user.id, action: .imageDeleted,
                target: image.id.rawValue, createdAt: now))
        }
        try? await removePublicCopy(image)
        try await removeObject(image.storageKey)
        for file in try await repos.metadataFiles.list(image: image.id) { try await removeObject(file.storageKey) }
    }

    static func inUse(_ usage: ImageUsage) -> ArrowError {
        var needs: [String] = []
        if usage.openBuildTasks > 0 { needs.append("\(usage.openBuildTasks) queued or running build task(s)") }
        if usage.openDeviceRequests > 0 { needs.append("\(usage.openDeviceRequests) open device request(s)") }
        return ArrowError(.conflict, reason: "image_in_use", "The image is still needed by \(needs.joined(separator: " and ")); try again when they finish")
    }

    /// Deletes an image's object; one already gone is fine.
    func removeObject(_ key: String) async throws {
        do {
            try await blobs.delete(try BlobKey(key))
        } catch let error as StorageError where error.code == .notFound {
        }
    }

    /// Writes an edited image, its audit event and `also` in one transaction, stamping `updatedAt`.
    @discardableResult
    func save(
        _ image: Image, action: AuditEvent.Action, by principal: Principal, details: [String: String] = [:],
        also: @escaping @Sendable (Repositories) async throws -> Void = { _ in }
    ) async throws -> Image {
        var image = image
        image.updatedAt = clock.now()
        let saved = image
        try await store.transaction { repos in
            guard try await repos.images.update(saved, scope: principal.scope) else { throw ArrowError.notFound("Image") }
            try await also(repos)
            try await repos.audit.append(AuditEvent(
                organizationID: saved.organizationID, actorID: principal.user.id, action: action,
                target: saved.id.rawValue, details: details, createdAt: saved.updatedAt))
        }
        return saved
    }

    /// A short-lived URL to download the image: the bucket directly on B2/S3, or this server on the local store.
    public func downloadURL(id: String, principal: Principal, expiresIn: TimeInterval = 300) async throws -> PresignedRequest {
        let image = try await entry(id: id, principal: principal).image
        guard image.status == .active else { throw ArrowError(.conflict, reason: "image_not_active", "The image is not available for download") }
        return try blobs.presignGet(try BlobKey(image.storageKey), expiresIn: expiresIn)
    }

    /// Removes uploads whose server process is gone (killed mid-upload): rows still `uploading` owned by none of the
    /// `live` processes, and their objects. Returns how many were removed.
    @discardableResult
    public func sweepOrphanedUploads(live: Set<String>) async throws -> Int {
        let orphans = try await repos.images.orphanedUploads(liveOwners: live.union([instanceID]), limit: 500)
        for image in orphans {
            try await removeObject(image.storageKey)
            _ = try await repos.images.delete(id: image.id)
            logger.notice("removed an upload its server process left", metadata: ["image": "\(image.id)", "file": "\(image.fileName)"])
        }
        return orphans.count
    }

    /// Removes uploads interrupted by a crash or a lost connection: rows still `uploading` after `maxAge`, and
    /// their objects. Returns how many were removed.
    @discardableResult
    public func sweepAbandonedUploads(maxAge: TimeInterval) async throws -> Int {
        let stale = try await repos.images.stale(status: .uploading, before: clock.now().addingTimeInterval(-maxAge), limit: 500)
        for image in stale {
            try await removeObject(image.storageKey)
            _ = try await repos.images.delete(id: image.id)
            logger.notice("removed an abandoned upload", metadata: ["image": "\(image.id)", "file": "\(image.fileName)"])
        }
        return stale.count
    }
}
