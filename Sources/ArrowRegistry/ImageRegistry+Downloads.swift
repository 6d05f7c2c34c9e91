import ArrowCore
import Foundation

/// Public downloads (the `download` deployment target): an image published is copied to the store's public area
/// (`B2_PUBLIC_BUCKET`, or the local store's) under a stable URL, `downloads/<organization>/<image>/<file name>`;
/// unpublishing — or deleting the image — removes the copy. Presigned private downloads are unchanged.
extension ImageRegistry {
    /// An image admin publishes an active image of their organization.
    public func publish(id: String, principal: Principal) async throws -> Image {
        try principal.require(.imageAdmin)
        let image = try await activeImage(id: id, principal: principal)
        guard image.organizationID == principal.user.organizationID || principal.isSuperuser else {
            throw ArrowError(.forbidden, reason: "not_owner", "Only the organization that owns an image can publish it")
        }
        return try await publish(image, by: principal)
    }

    /// A builder holding the lease of a task whose target is `download` publishes the task's artifact.
    public func publishBuilt(image id: ImageID, organization: OrganizationID, builder: Principal) async throws -> Image {
        guard let image = try await repos.images.find(id: id, scope: .organization(organization)), image.status == .active else {
            throw ArrowError.notFound("Image")
        }
        // The builder's scope holds the task's organization: it leased the task through it.
        return try await publish(image, by: builder)
    }

    func publish(_ image: Image, by principal: Principal) async throws -> Image {
        var published = image
        published.downloadURL = try await copyToPublic(image)
        return try await save(published, action: .imagePublished, by: principal, details: ["url": published.downloadURL ?? ""])
    }

    public func unpublish(id: String, principal: Principal) async throws -> Image {
        try principal.require(.imageAdmin)
        let image = try await image(id: id, principal: principal, needing: .imageAdmin)
        guard image.downloadURL != nil else { throw ArrowError(.notFound, reason: "not_published", "The image is not published") }
        try await removePublicCopy(image)
        var unpublished = image
        unpublished.downloadURL = nil
        return try await save(unpublished, action: .imageUnpublished, by: principal)
    }

    func copyToPublic(_ image: Image) async throws -> String {
        guard let downloads = blobs as? any PublicDownloads else {
            throw ArrowError(.unavailable, reason: "downloads_unavailable", "This server's storage has no public area (set B2_PUBLIC_BUCKET)")
        }
        do {
            return try await downloads.publish(try BlobKey(image.storageKey), as: try Self.publicKey(image))
        } catch let error as StorageError where error.code == .unavailable {
            throw ArrowError(.unavailable, reason: "downloads_unavailable", error.message)
        }
    }

    func removePublicCopy(_ image: Image) async throws {
        guard image.downloadURL != nil, let downloads = blobs as? any PublicDownloads else { return }
        try await downloads.unpublish(try Self.publicKey(image))
    }

    /// Stable per image; the file name reduced to characters every URL and bucket takes.
    static func publicKey(_ image: Image) throws -> BlobKey {
        let name = String(image.fileName.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" }).prefix(200)
        let file = name.isEmpty || name.allSatisfy({ $0 == "." }) ? "image" : String(name)
        return try BlobKey("downloads/\(image.organizationID.rawValue)/\(image.id.rawValue)/\(file)")
    }
}
