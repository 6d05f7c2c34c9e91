import Foundation

/// A validated object key: 1–1024 UTF-8 bytes, relative, no `.`/`..`/empty segments, no NUL or control
/// characters, no backslash. Validation happens here, once, so no store ever sees a key that could escape its root.
public struct BlobKey: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// - Throws: ``StorageError`` `invalidKey`.
    public init(_ rawValue: String) throws {
        let bytes = rawValue.utf8
        guard !bytes.isEmpty, bytes.count <= 1024 else { throw StorageError(.invalidKey, "A key must have 1 to 1024 bytes") }
        guard !rawValue.hasPrefix("/") else { throw StorageError(.invalidKey, "A key must be relative") }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) else {
            throw StorageError(.invalidKey, "A key must not contain control characters, NUL or backslashes")
        }
        for segment in rawValue.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != ".." else {
                throw StorageError(.invalidKey, "A key must not contain empty, '.' or '..' segments")
            }
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}

/// What a store knows about an object.
public struct BlobInfo: Sendable, Equatable {
    public var key: BlobKey
    public var size: Int64
    public var etag: String?
    public var lastModified: Date?

    public init(key: BlobKey, size: Int64, etag: String? = nil, lastModified: Date? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// An inclusive byte range, as in HTTP `Range: bytes=lower-upper` (`upper` nil means to the end).
public struct ByteRange: Sendable, Equatable {
    public var lower: Int64
    public var upper: Int64?

    public init(_ lower: Int64, _ upper: Int64? = nil) {
        self.lower = lower
        self.upper = upper
    }

    /// The concrete range within an object of `size` bytes.
    /// - Throws: ``StorageError`` `invalidRange` when it does not overlap the object.
    public func resolved(size: Int64) throws -> ClosedRange<Int64> {
        let upper = min(self.upper ?? (size - 1), size - 1)
        guard lower >= 0, lower <= upper else { throw StorageError(.invalidRange, "Range \(lower)-\(self.upper.map(String.init) ?? "") outside 0-\(size - 1)") }
        return lower...upper
    }
}

/// A multipart upload in progress.
public struct MultipartUpload: Sendable, Equatable, Codable {
    public var key: String
    public var uploadID: String

    public init(key: BlobKey, uploadID: String) {
        self.key = key.rawValue
        self.uploadID = uploadID
    }

    public func blobKey() throws -> BlobKey { try BlobKey(key) }
}

/// A stored part of a multipart upload.
public struct UploadedPart: Sendable, Equatable, Codable {
    public var number: Int
    public var etag: String
    public var size: Int64

    public init(number: Int, etag: String, size: Int64) {
        self.number = number
        self.etag = etag
        self.size = size
    }
}

/// A URL that lets its holder perform one request without credentials until `expiresAt`.
public struct PresignedRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    /// Headers the caller must send exactly as given (they are part of the signature).
    public var headers: [String: String]
    public var expiresAt: Date

    public init(method: String, url: String, headers: [String: String] = [:], expiresAt: Date) {
        self.method = method
        self.url = url
        self.headers = headers
        self.expiresAt = expiresAt
    }
}

/// Object storage: the local store (embedded default) and S3-compatible services (Backblaze B2).
///
/// Writes are all-or-nothing: a failed or interrupted put never leaves an object under its key.
public protocol BlobStore: Sendable {
    /// Stores `body` under `key`, replacing what was there. `length`, when given, must match the body.
    @discardableResult
    func put(_ key: BlobKey, body: BlobBody, length: Int64?) async throws -> BlobInfo
    /// The object (or the `range` of it) and its bytes. - Throws: `notFound`, `invalidRange`.
    func get(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody)
    /// Nil when there is no such object.
    func head(_ key: BlobKey) async throws -> BlobInfo?
    /// Removes the object; removing a missing object succeeds.
    func delete(_ key: BlobKey) async throws
    /// Objects whose key starts with `prefix`, sorted by key.
    func list(prefix: String) async throws -> [BlobInfo]

    /// - Parameter partSize: the size of every part but the last, when the caller knows it: a store that assembles
    ///   parts itself may then write each one straight to its place in the object.
    func createMultipartUpload(_ key: BlobKey, partSize: Int64?) async throws -> MultipartUpload
    /// Part numbers run 1…10,000. - Throws: `notFound` for an unknown upload.
    func uploadPart(_ upload: MultipartUpload, number: Int, body: BlobBody, length: Int64) async throws -> UploadedPart
    /// The parts stored so far, by number.
    func listParts(_ upload: MultipartUpload) async throws -> [UploadedPart]
    /// Assembles `parts` (in number order) into the object, atomically. - Throws: `invalidPart`.
    @discardableResult
    func completeMultipartUpload(_ upload: MultipartUpload, parts: [UploadedPart]) async throws -> BlobInfo
    /// Discards the upload and its parts; aborting an unknown upload succeeds.
    func abortMultipartUpload(_ upload: MultipartUpload) async throws

    func presignGet(_ key: BlobKey, expiresIn: TimeInterval) throws -> PresignedRequest
    /// The only presigned write: one part of an open multipart upload, `contentLength` bound into the signature.
    /// There is deliberately no presigned PUT of an object: a URL that names a key could replace a stored image's
    /// bytes behind its record. A part URL stops working once its upload is completed or aborted.
    func presignUploadPart(_ upload: MultipartUpload, number: Int, expiresIn: TimeInterval, contentLength: Int64?) throws -> PresignedRequest
}

/// Public downloads: a copy of an object in the store's public area (`B2_PUBLIC_BUCKET`; the local store's public
/// directory), readable by anyone at a stable URL. The copy is separate from the object, so unpublishing (or deleting
/// the image) removes exactly what was published.
public protocol PublicDownloads: Sendable {
    /// Copies `key` to `publicKey` in the public area; returns its URL. - Throws: `unavailable` without a public area.
    func publish(_ key: BlobKey, as publicKey: BlobKey) async throws -> String
    /// Removes the public copy; removing a missing one succeeds.
    func unpublish(_ publicKey: BlobKey) async throws
}

extension BlobStore {
    public func createMultipartUpload(_ key: BlobKey) async throws -> MultipartUpload {
        try await createMultipartUpload(key, partSize: nil)
    }

    /// Reads a whole object into memory (small objects only: metadata documents, test fixtures).
    public func read(_ key: BlobKey, range: ByteRange? = nil) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in try await get(key, range: range).1 { out += chunk }
        return out
    }
}

/// A store that assembles multipart uploads itself (the local store), and so can give the object's SHA-256 (lower-case
/// hex) without a second read through the storage API: kept as the parts arrived where it could, else taken while
/// assembling.
public protocol DigestingAssembly: BlobStore {
    func completeMultipartUploadWithDigest(_ upload: MultipartUpload, parts: [UploadedPart]) async throws -> (info: BlobInfo, sha256: String)
}

/// What a presigned request to this server may touch.
public enum SignedStorageTarget: Sendable, Equatable {
    case object(BlobKey)
    case part(uploadID: String, number: Int)
}

/// A store whose presigned URLs point at this server (the local store); the API serves them at `/api/storage/…`.
public protocol ServerSignedStorage: BlobStore {
    /// Verifies a presigned request: method, path (as sent), query, and the body length it carries.
    /// - Throws: ``StorageError`` `invalidSignature`, `expired`, `lengthMismatch`.
    func authorize(method: String, path: String, query: [String: String], contentLength: Int64?) throws -> SignedStorageTarget
    /// The open multipart upload with this id. - Throws: `notFound`.
    func multipartUpload(id: String) throws -> MultipartUpload
    /// A published copy (``PublicDownloads``), for the server's unauthenticated `/downloads/…` route.
    func getPublic(_ key: BlobKey, range: ByteRange?) async throws -> (BlobInfo, BlobBody)
}
