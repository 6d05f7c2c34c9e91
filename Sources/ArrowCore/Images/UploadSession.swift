import Foundation

public enum UploadSessionTag {}
public typealias UploadSessionID = Identifier<UploadSessionTag>

/// A multipart upload in progress: signed at `POST /api/vm_images/upload/sign`, its parts PUT by the client straight
/// to storage, finished at `POST /api/vm_images/upload/complete`. The image row exists only from completion on, so
/// nothing half-uploaded is ever listed.
public struct UploadSession: Sendable, Equatable {
    public var id: UploadSessionID
    public var organizationID: OrganizationID
    public var userID: UserID
    /// The image id the upload will become (its storage key is derived from it).
    public var imageID: ImageID
    public var fileName: String
    public var fileType: String?
    /// Bytes the client declared; the parts must add up to exactly this.
    public var fileSize: Int64
    public var partSize: Int64
    public var storageKey: String
    /// The store's own multipart upload id.
    public var storeUploadID: String
    /// The form fields given at sign time (name, description, software, ansible_flags, sha256, previous_version_id).
    public var fields: [String: String]
    public var status: UploadSessionStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date

    public init(
        id: UploadSessionID, organizationID: OrganizationID, userID: UserID, imageID: ImageID, fileName: String, fileType: String?,
        fileSize: Int64, partSize: Int64, storageKey: String, storeUploadID: String, fields: [String: String],
        status: UploadSessionStatus, createdAt: Date, updatedAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.userID = userID
        self.imageID = imageID
        self.fileName = fileName
        self.fileType = fileType
        self.fileSize = fileSize
        self.partSize = partSize
        self.storageKey = storageKey
        self.storeUploadID = storeUploadID
        self.fields = fields
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
    }

    public var partCount: Int { Int((fileSize + partSize - 1) / partSize) }

    /// The exact size part `number` (1-based) must have: `partSize`, except the last.
    public func expectedSize(ofPart number: Int) -> Int64 {
        number < partCount ? partSize : fileSize - partSize * Int64(partCount - 1)
    }

    /// Part size for a multipart upload of `size` bytes: at least 8 MiB (S3 refuses parts under 5 MiB but the last),
    /// large enough that no object needs more than 10,000 parts; whole MiB.
    public static func partSize(for size: Int64) -> Int64 {
        let mib: Int64 = 1 << 20
        let needed = (size + 9_999) / 10_000
        return max(8 * mib, (needed + mib - 1) / mib * mib)
    }
}

/// `open → completing → completed`; `completing → open` when completion failed in a way the client can retry
/// (missing parts, the store too busy to assemble); `completing → assembled` when the store assembled the object but
/// could not be read back to check it (completing again checks it, with nothing to upload again);
/// `open|completing|assembled → aborted|expired|rejected`.
public enum UploadSessionStatus: String, Sendable, Codable, CaseIterable {
    case open, completing, assembled, completed, aborted, expired, rejected
}

/// Multipart upload sessions, scoped by organization in the query.
public protocol UploadSessionRepository: Sendable {
    func create(_ session: UploadSession) async throws
    func find(id: UploadSessionID, scope: AccessScope) async throws -> UploadSession?
    /// Moves the session from one of `from` to `to` in one conditional statement; false when it was in none of them
    /// (someone else got there first).
    func transition(id: UploadSessionID, from: Set<UploadSessionStatus>, to: UploadSessionStatus, at: Date) async throws -> Bool
    /// Sessions still `open`, `completing` or `assembled` whose expiry is before `before`.
    func expired(before: Date, limit: Int) async throws -> [UploadSession]
}
