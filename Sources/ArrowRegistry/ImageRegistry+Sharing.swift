import ArrowCore
import Foundation

/// Sharing between organizations, public images, and each organization's ordered default images.
extension ImageRegistry {
    /// At most this many default images per organization.
    public static let maximumDefaults = 50

    /// Shares an active image of the caller's organization with another organization (read and use, not edit).
    /// Returns every organization the image is now shared with.
    @discardableResult
    public func share(id: String, with target: String, principal: Principal) async throws -> [OrganizationID] {
        try principal.require(.imageAdmin)
        let image = try await activeImage(id: id, principal: principal)
        let organization = OrganizationID(target)
        guard organization != image.organizationID else {
            throw ArrowError(.unprocessable, reason: "share_with_owner", "The image already belongs to that organization")
        }
        guard try await repos.organizations.find(id: organization, scope: .all) != nil else { throw ArrowError.notFound("Organization") }
        try await save(image, action: .imageShared, by: principal, details: ["organization": target]) { [clock] repos in
            try await repos.collections.share(image: image.id, with: organization, by: principal.user.id, at: clock.now())
        }
        return try await repos.collections.shares(image: image.id)
    }

    /// Stops sharing; the organization loses the image from its collection and its defaults.
    public func unshare(id: String, from target: String, principal: Principal) async throws {
        try principal.require(.imageAdmin)
        let image = try await image(id: id, principal: principal, needing: .imageAdmin)
        try await save(image, action: .imageUnshared, by: principal, details: ["organization": target]) { repos in
            guard try await repos.collections.unshare(image: image.id, from: OrganizationID(target)) else {
                throw ArrowError(.notFound, reason: "not_shared", "The image is not shared with that organization")
            }
        }
    }

    /// The organizations an image of the caller's organization is shared with.
    public func shares(id: String, principal: Principal) async throws -> [OrganizationID] {
        let image = try await image(id: id, principal: principal, needing: .imageRead)
        return try await repos.collections.shares(image: image.id)
    }

    /// Makes an image public (in every organization's collection) or private again: superusers only.
    public func setPublic(id: String, _ isPublic: Bool, principal: Principal) async throws -> Image {
        guard principal.isSuperuser else {
            throw ArrowError(.forbidden, reason: "superuser_required", "Only a superuser can make images public")
        }
        var image = try await activeImage(id: id, principal: principal)
        image.isPublic = isPublic
        return try await save(image, action: .imageVisibilityChanged, by: principal, details: ["public": String(isPublic)]) { [id = image.id] repos in
            try await repos.collections.setPublic(image: id, isPublic)
        }
    }

    /// The organization's default images, in order: what new build requests start from.
    public func defaults(principal: Principal, organization: String?) async throws -> [CollectionEntry] {
        try await collection(principal: principal, organization: organization, filter: Self.defaultsFilter)
    }

    /// Replaces the organization's defaults with `ids`, in that order (empty clears them). Each must be an active
    /// image in the organization's collection.
    public func setDefaults(_ ids: [String], principal: Principal, organization requested: String?) async throws -> [CollectionEntry] {
        try principal.requireHuman()
        try principal.require(.imageAdmin)
        let organization = try targetOrganization(principal, requested: requested)
        guard ids.count <= Self.maximumDefaults else {
            throw ArrowError(.unprocessable, reason: "too_many_defaults", "At most \(Self.maximumDefaults) default images")
        }
        guard Set(ids).count == ids.count else { throw ArrowError(.unprocessable, reason: "duplicate_default", "An image is listed twice") }
        let images = ids.map { ImageID($0) }
        let now = clock.now()
        try await store.transaction { repos in
            let requireVerified = try await VerificationPolicy.required(for: organization, repos)
            for image in images {
                guard let entry = try await repos.collections.entry(image: image, organization: organization), entry.image.status == .active else {
                    throw ArrowError(.unprocessable, reason: "invalid_default",
                                     "Image \(image) is not an active image in this organization's collection")
                }
                if requireVerified { try await VerificationPolicy.requirePassed(image, repos) }
            }
            try await repos.collections.setDefaults(organization: organization, images, at: now)
            try await repos.audit.append(AuditEvent(
                organizationID: organization, actorID: principal.user.id, action: .defaultImagesChanged,
                target: organization.rawValue, details: ["images": ids.joined(separator: ",")], createdAt: now))
        }
        return try await entries(principal: principal, organization: organization.rawValue, filter: Self.defaultsFilter)
    }

    static let defaultsFilter = CollectionFilter(defaultsOnly: true, images: ImageFilter(status: .active, limit: maximumDefaults))

    func activeImage(id: String, principal: Principal) async throws -> Image {
        let image = try await image(id: id, principal: principal, needing: .imageAdmin)
        guard image.status == .active else { throw ArrowError(.conflict, reason: "image_not_active", "The image is not active") }
        return image
    }
}
