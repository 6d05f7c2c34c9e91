import Foundation

/// Why an image is in an organization's collection.
public enum CollectionSource: String, Sendable, Codable, CaseIterable {
    /// Uploaded by the organization itself.
    case custom
    /// Shared with it by the organization that owns it.
    case shared
    /// Made public by a superuser.
    case `public`
}

/// One image as an organization's collection holds it.
public struct CollectionEntry: Sendable, Equatable {
    public var image: Image
    public var source: CollectionSource
    /// Its place among the organization's default images (0 first), nil when it is not a default.
    public var defaultPosition: Int?

    public init(image: Image, source: CollectionSource, defaultPosition: Int?) {
        self.image = image
        self.source = source
        self.defaultPosition = defaultPosition
    }
}

/// What a collection listing may filter on, besides the image filter.
public struct CollectionFilter: Sendable, Equatable {
    /// Only entries from these sources (all when empty).
    public var sources: Set<CollectionSource> = []
    /// Only the organization's default images.
    public var defaultsOnly = false
    public var images = ImageFilter()

    public init(sources: Set<CollectionSource> = [], defaultsOnly: Bool = false, images: ImageFilter = ImageFilter()) {
        self.sources = sources
        self.defaultsOnly = defaultsOnly
        self.images = images
    }
}

/// Collections: shares between organizations, public images and each organization's ordered default images.
/// Reads are per organization; isolation is in the queries (an image is visible to the organization that owns it,
/// the ones it is shared with, and everyone once public).
public protocol CollectionRepository: Sendable {
    /// The organization's collection, newest first (defaults first, in order, when `defaultsOnly`).
    func entries(organization: OrganizationID, filter: CollectionFilter) async throws -> [CollectionEntry]
    /// The image as `organization` sees it, or nil when it is not in its collection.
    func entry(image: ImageID, organization: OrganizationID) async throws -> CollectionEntry?

    func share(image: ImageID, with organization: OrganizationID, by user: UserID, at: Date) async throws
    /// False when it was not shared with that organization.
    func unshare(image: ImageID, from organization: OrganizationID) async throws -> Bool
    func shares(image: ImageID) async throws -> [OrganizationID]
    func setPublic(image: ImageID, _ isPublic: Bool) async throws

    /// The organization's default images, in order.
    func defaults(organization: OrganizationID) async throws -> [ImageID]
    /// Replaces the organization's defaults with `images`, in that order.
    func setDefaults(organization: OrganizationID, _ images: [ImageID], at: Date) async throws
    /// Forgets an image everywhere it was shared or chosen as a default (it is being deleted).
    func forget(image: ImageID) async throws
}
