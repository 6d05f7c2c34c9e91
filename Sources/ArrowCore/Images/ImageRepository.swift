import Foundation

/// What a collection listing may filter on.
public struct ImageFilter: Sendable, Equatable {
    public var status: ImageStatus? = .active
    public var format: String?
    /// Case-insensitive substring of the name.
    public var nameContains: String?
    public var limit: Int = 100
    public var offset: Int = 0

    public init(status: ImageStatus? = .active, format: String? = nil, nameContains: String? = nil, limit: Int = 100, offset: Int = 0) {
        self.status = status
        self.format = format
        self.nameContains = nameContains
        self.limit = limit
        self.offset = offset
    }
}

/// Images, scoped by organization in the query.
public protocol ImageRepository: Sendable {
    /// Inserts a row; `uploadOwner` names the server process streaming an upload into it (see ``orphanedUploads``).
    func create(_ image: Image, uploadOwner: String?) async throws
    /// Rows still `uploading` whose owner is not among `liveOwners` (or is unrecorded): left by a dead process.
    func orphanedUploads(liveOwners: Set<String>, limit: Int) async throws -> [Image]
    func find(id: ImageID, scope: AccessScope) async throws -> Image?
    func list(organization: OrganizationID?, filter: ImageFilter, scope: AccessScope) async throws -> [Image]
    /// Moves the row from `from` to `to` only if it still is `from` (a compare-and-set: of concurrent callers, one
    /// wins); returns whether it moved.
    func setStatus(id: ImageID, from: ImageStatus, to: ImageStatus, at: Date) async throws -> Bool
    /// Writes every mutable field; returns false when the row is not within `scope`.
    func update(_ image: Image, scope: AccessScope) async throws -> Bool
    /// Removes the row outright (a rejected or abandoned upload); returns false when it was not there.
    func delete(id: ImageID) async throws -> Bool
    /// Uploads still `uploading` whose last update is older than `before` (interrupted; to clean up).
    func stale(status: ImageStatus, before: Date, limit: Int) async throws -> [Image]
}

/// Upload attempts per user, for the rate limit that must hold across restarts and API servers.
public protocol UploadAttemptRepository: Sendable {
    /// Serializes concurrent attempts of one user (a row lock on PostgreSQL; SQLite has one writer anyway).
    func lock(user: UserID) async throws
    func record(user: UserID, at: Date) async throws
    /// Attempts since `since`, oldest first.
    func attempts(user: UserID, since: Date) async throws -> [Date]
}

extension ImageRepository {
    public func create(_ image: Image) async throws { try await create(image, uploadOwner: nil) }
}
