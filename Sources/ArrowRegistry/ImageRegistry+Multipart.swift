import ArrowCore
import ArrowFormats
import Crypto
import Foundation
import Logging

/// The multipart upload path: sign a session, the client PUTs parts straight to storage (B2, or this server for the
/// local store), complete. Completion checks every part, assembles the object, inspects it with ranged reads of just
/// the regions the inspector asks for, hashes it, and only then activates the image.
extension ImageRegistry {
    /// How long a session may stay open before the janitor aborts it, and how long each part URL lives.
    public static let sessionLifetime: TimeInterval = 24 * 3600
    public static let partURLLifetime: TimeInterval = 3600

    /// A session with its parts: those already stored, and fresh URLs for those asked for.
    public struct SignedSession: Sendable {
        public var session: UploadSession
        public var uploadedParts: [UploadedPart]
        public var signedParts: [SignedPart]
        /// How many parts the client should send at once. One where the store hashes the parts as they arrive in
        /// order (``DigestingAssembly``): parts sent side by side arrive out of order and are read back from the disk
        /// to be hashed (measured for 2 GiB on loopback: 5.1-5.5 CPU-s on the server one at a time against 8.0-8.2
        /// three at a time, 6.3-6.8 s against 9.1 s). More where the parts go straight to object storage, whose
        /// latency they hide.
        public var parallelParts: Int
    }

    public struct SignedPart: Sendable {
        public var number: Int
        public var size: Int64
        public var request: PresignedRequest
    }

    /// Opens a session for a file of `fileSize` bytes. The fields are validated now, so a bad name or software list
    /// fails before any byte is sent. Takes one slot of the upload rate limit.
    public func startMultipart(
        principal: Principal, fileName rawFileName: String, fileType: String?, fileSize: Int64, fields: ImageUploadFields
    ) async throws -> SignedSession {
        let fileName = try Self.validate(fileName: rawFileName)
        guard fileSize <= limits.multipart.upperBound else {
            throw ArrowError(.payloadTooLarge, reason: "file_too_large", "The file is larger than \(UploadLimits.describe(limits.multipart.upperBound))")
        }
        try checkMinimum(size: fileSize, limits.multipart.lowerBound)
        if let sha256 = fields.sha256, !sha256.isEmpty { try Self.validate(sha256: sha256) }
        _ = try fields.metadata()
        let ticket = try await beginUpload(principal: principal, organization: fields.organizationID)
        _ = try await previousVersion(fields.previousVersionID, organization: ticket.organization, principal: principal)
        let imageID = ImageID.generate()
        let key = try StorageLayout.image(id: imageID.rawValue, fileName: fileName)
        let partSize = UploadSession.partSize(for: fileSize)
        let upload = try await blobs.createMultipartUpload(key, partSize: partSize)
        let now = clock.now()
        let session = UploadSession(
            id: .generate(), organizationID: ticket.organization, userID: principal.user.id, imageID: imageID, fileName: fileName,
            fileType: fileType, fileSize: fileSize, partSize: partSize, storageKey: key.rawValue,
            storeUploadID: upload.uploadID, fields: fields.formValues, status: .open, createdAt: now, updatedAt: now,
            expiresAt: now.addingTimeInterval(Self.sessionLifetime))
        do {
            try await repos.uploadSessions.create(session)
        } catch {
            try? await blobs.abortMultipartUpload(upload)
            throw error
        }
        return try sign(session, parts: Array(1...session.partCount), uploaded: [])
    }

    /// Fresh URLs for an open session: for `parts`, or for every part not stored yet (resuming). An assembled session
    /// has nothing left to upload: it comes back with no parts, to be completed again.
    public func signParts(principal: Principal, id: String, parts requested: [Int]?) async throws -> SignedSession {
        let session = try await openSession(id, principal: principal, allowing: [.open, .assembled])
        if session.status == .assembled {
            return SignedSession(session: session, uploadedParts: [], signedParts: [], parallelParts: parallelParts)
        }
        let uploaded = try await storedParts(session)
        let stored = Set(uploaded.map(\.number))
        let parts = requested ?? (1...session.partCount).filter { !stored.contains($0) }
        return try sign(session, parts: parts, uploaded: uploaded)
    }

    /// The session and the parts stored so far.
    public func multipartStatus(principal: Principal, id: String) async throws -> SignedSession {
        let session = try await ownSession(id, principal: principal)
        let uploaded = session.status == .open ? try await storedParts(session) : []
        return SignedSession(session: session, uploadedParts: uploaded, signedParts: [], parallelParts: parallelParts)
    }

    /// Abandons a session: its parts, or the object they were assembled into, are discarded.
    public func abortMultipart(principal: Principal, id: String) async throws {
        let session = try await openSession(id, principal: principal, allowing: [.open, .assembled])
        guard try await repos.uploadSessions.transition(id: session.id, from: [session.status], to: .aborted, at: clock.now()) else {
            throw ArrowError(.conflict, reason: "upload_not_open", "The upload is no longer open")
        }
        try await discardStored(session)
    }

    /// Finishes a session: every part present with its exact size, the object assembled, inspected by ranged reads,
    /// hashed, and the image activated; or every trace removed and the failed check named.
    /// - Parameter sha256: the client's digest, if it did not give one at sign time.
    public func completeMultipart(principal: Principal, id: String, sha256: String?) async throws -> Image {
        let session = try await openSession(id, principal: principal, allowing: [.open, .assembled])
        var fields = try ImageUploadFields(formValues: session.fields)
        if let sha256, !sha256.isEmpty {
            try Self.validate(sha256: sha256)
            fields.sha256 = sha256
        }
        guard try await repos.uploadSessions.transition(id: session.id, from: [session.status], to: .completing, at: clock.now()) else {
            throw ArrowError(.conflict, reason: "upload_not_open", "The upload is being completed or is no longer open")
        }
        // Whether the store holds the assembled object (from an earlier completion that could not check it).
        var assembled = session.status == .assembled
        var parts: [UploadedPart] = []
        if !assembled {
            do {
                parts = try await verifiedParts(session)
            } catch {
                // Nothing assembled yet: the client can upload what is missing and complete again.
                _ = try? await repos.uploadSessions.transition(id: session.id, from: [.completing], to: .open, at: clock.now())
                throw error
            }
        }
        let key = try BlobKey(session.storageKey)
        var image = Image.placeholder(id: session.imageID, organization: session.organizationID, fileName: session.fileName,
                                      key: key, uploadedBy: session.userID, at: clock.now())
        // Owned by this process while it completes: another process's janitor takes an `uploading` row without a live
        // owner for a crash's leftover, and would remove the object mid-check.
        try await repos.images.create(image, uploadOwner: instanceID)
        // Removes every trace of the upload and records why.
        func abandon(_ error: any Error) async {
            await discard(image, key: key, error: error, actor: principal)
            if !assembled { try? await blobs.abortMultipartUpload(try upload(of: session)) }
            _ = try? await repos.uploadSessions.transition(id: session.id, from: [.completing], to: .rejected, at: clock.now())
        }
        // Steps back to `to`, the image unlisted again, for a completion the client may simply repeat.
        func stepBack(to status: UploadSessionStatus) async {
            _ = try? await repos.images.delete(id: image.id)
            _ = try? await repos.uploadSessions.transition(id: session.id, from: [.completing], to: status, at: clock.now())
        }
        do {
            var digest: (sha256: String, size: Int64)?
            if !assembled {
                digest = try await assemble(session, parts: parts)
                assembled = true
            }
            let (sha256, size) = if let digest { digest } else { try await storedDigest(key) }
            guard size == session.fileSize else {
                throw ArrowError(.unprocessable, reason: "size_mismatch", "The stored object has \(size) bytes, not \(session.fileSize)")
            }
            // Only the regions the inspectors ask for are read back (headers, footers, descriptors).
            let report = Judgement.judge(
                try await RandomAccessInspection.inspect(StoredObjectBytes(blobs: blobs, key: key, size: UInt64(size))),
                fileName: session.fileName, fileType: session.fileType)
            try check(report, declaredSHA256: fields.sha256, actualSHA256: sha256)
            try await finish(&image, report: report, sha256: sha256, size: size, fields: fields, principal: principal)
            let active = try await activate(image, actor: principal)
            _ = try await repos.uploadSessions.transition(id: session.id, from: [.completing], to: .completed, at: clock.now())
            return active
        } catch let error as AssemblyNotStarted {
            // The store refused to assemble for now (B2 busy, say): the parts are untouched, so the client may
            // complete again rather than upload everything anew.
            await stepBack(to: .open)
            throw ArrowError(.unavailable, reason: "storage_unavailable",
                             "Storage could not assemble the upload just now; complete it again", cause: error.cause)
        } catch let error where assembled && Self.isStorageUnavailable(error) {
            // Assembled, but the object could not be read back to hash and inspect it. It is whole in the store:
            // keep it, and let the client complete again instead of uploading gigabytes anew.
            await stepBack(to: .assembled)
            throw ArrowError(.unavailable, reason: "storage_unavailable",
                             "The upload is assembled but storage could not be read to check it; complete it again", cause: error)
        } catch {
            await abandon(error)
            throw error
        }
    }

    /// Storage not answering (as opposed to answering no): worth the same request again later.
    static func isStorageUnavailable(_ error: any Error) -> Bool {
        (error as? StorageError)?.code == .unavailable || (error as? ArrowError)?.code == .unavailable
    }

    /// Removes what a session left in the store: its parts, or the object they were assembled into (a session
    /// interrupted while completing may have either).
    private func discardStored(_ session: UploadSession) async throws {
        if session.status != .assembled {
            do {
                try await blobs.abortMultipartUpload(try upload(of: session))
            } catch let error as StorageError where error.code == .notFound {
                // Already assembled, or already aborted: no parts left.
            }
        }
        if session.status != .open { try await removeObject(session.storageKey) }
    }

    /// Aborts sessions past their expiry (abandoned by their clients, or interrupted mid-completion). Returns how many.
    @discardableResult
    public func expireSessions() async throws -> Int {
        let expired = try await repos.uploadSessions.expired(before: clock.now(), limit: 500)
        for session in expired {
            if session.status == .completing, let image = try await repos.images.find(id: session.imageID, scope: .all), image.status != .uploading {
                // The image was activated and the process stopped before it could close the session: keep the image.
                _ = try await repos.uploadSessions.transition(id: session.id, from: [.completing], to: .completed, at: clock.now())
                continue
            }
            try await discardStored(session)
            _ = try await repos.uploadSessions.transition(id: session.id, from: [.open, .completing, .assembled], to: .expired, at: clock.now())
            logger.notice("expired an abandoned multipart upload", metadata: ["session": "\(session.id)", "file": "\(session.fileName)"])
        }
        return expired.count
    }

    // MARK: - Helpers

    private func sign(_ session: UploadSession, parts: [Int], uploaded: [UploadedPart]) throws -> SignedSession {
        let upload = try upload(of: session)
        let signed = try parts.map { number -> SignedPart in
            guard (1...session.partCount).contains(number) else {
                throw ArrowError(.unprocessable, reason: "invalid_part_number", "Part numbers run from 1 to \(session.partCount)")
            }
            let size = session.expectedSize(ofPart: number)
            return SignedPart(number: number, size: size, request: try blobs.presignUploadPart(
                upload, number: number, expiresIn: Self.partURLLifetime, contentLength: size))
        }
        return SignedSession(session: session, uploadedParts: uploaded, signedParts: signed, parallelParts: parallelParts)
    }

    var parallelParts: Int { blobs is any DigestingAssembly ? 1 : 4 }

    /// The caller's own session (or any, for a superuser), in its organization.
    private func ownSession(_ id: String, principal: Principal) async throws -> UploadSession {
        try principal.requireHuman()
        try principal.require(.imageUpload)
        guard let session = try await repos.uploadSessions.find(id: UploadSessionID(id), scope: principal.scope),
              session.userID == principal.user.id || principal.user.role == .superuser
        else { throw ArrowError.notFound("Upload") }
        return session
    }

    /// The caller's session, unexpired and in one of `allowing` (by default: still taking parts).
    private func openSession(_ id: String, principal: Principal, allowing: Set<UploadSessionStatus> = [.open]) async throws -> UploadSession {
        let session = try await ownSession(id, principal: principal)
        guard allowing.contains(session.status) else {
            throw ArrowError(.conflict, reason: "upload_not_open", "The upload is \(session.status.rawValue), not open")
        }
        guard session.expiresAt > clock.now() else {
            throw ArrowError(.conflict, reason: "upload_expired", "The upload expired; start a new one")
        }
        return session
    }

    private func upload(of session: UploadSession) throws -> MultipartUpload {
        MultipartUpload(key: try BlobKey(session.storageKey), uploadID: session.storeUploadID)
    }

    private func storedParts(_ session: UploadSession) async throws -> [UploadedPart] {
        do {
            return try await blobs.listParts(try upload(of: session)).sorted { $0.number < $1.number }
        } catch let error as StorageError where error.code == .notFound {
            throw ArrowError(.conflict, reason: "upload_expired", "The store no longer has this upload; start a new one")
        }
    }

    /// Every part 1…n present with exactly its expected size; names the missing or wrong ones.
    private func verifiedParts(_ session: UploadSession) async throws -> [UploadedPart] {
        let stored = Dictionary(try await storedParts(session).map { ($0.number, $0) }, uniquingKeysWith: { $1 })
        let missing = (1...session.partCount).filter { stored[$0] == nil }
        guard missing.isEmpty else {
            throw ArrowError(.conflict, reason: "parts_missing",
                             "Parts not uploaded yet: \(Self.describe(missing)); sign them again and upload them")
        }
        let wrong = (1...session.partCount).filter { stored[$0]!.size != session.expectedSize(ofPart: $0) }
        guard wrong.isEmpty else {
            throw ArrowError(.conflict, reason: "parts_wrong_size", "Parts with the wrong size: \(Self.describe(wrong)); upload them again")
        }
        return (1...session.partCount).map { stored[$0]! }
    }

    static func describe(_ numbers: [Int]) -> String {
        numbers.count <= 10 ? numbers.map(String.init).joined(separator: ", ") : numbers.prefix(10).map(String.init).joined(separator: ", ") + " and \(numbers.count - 10) more"
    }

    /// Completes the store's multipart upload. Returns the object's SHA-256 and length where the store assembles the
    /// parts itself (hashed as they arrived); nil where it must be read back for them (B2/S3 assemble remotely).
    private func assemble(_ session: UploadSession, parts: [UploadedPart]) async throws -> (sha256: String, size: Int64)? {
        let upload = try upload(of: session)
        if let local = blobs as? any DigestingAssembly {
            let (info, sha256) = try await local.completeMultipartUploadWithDigest(upload, parts: parts)
            return (sha256, info.size)
        }
        do {
            try await blobs.completeMultipartUpload(upload, parts: parts)
        } catch let error as StorageError where error.code == .unavailable {
            throw AssemblyNotStarted(cause: error)
        }
        return nil
    }

    /// The stored object's SHA-256 and length, read once.
    private func storedDigest(_ key: BlobKey) async throws -> (sha256: String, size: Int64) {
        let digest = RunningDigest()
        for try await chunk in try await blobs.get(key, range: nil).1 { digest.update(chunk) }
        return digest.finish()
    }

    static func validate(sha256: String) throws {
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw ArrowError(.unprocessable, reason: "invalid_sha256", "sha256 must be 64 hexadecimal digits")
        }
    }
}

/// The store could not be reached to assemble the parts; they are as the client left them.
struct AssemblyNotStarted: Error {
    let cause: StorageError
}

/// A stored object read by ranged GETs: what ``RandomAccessInspection`` needs at completion.
struct StoredObjectBytes: RandomAccessBytes {
    let blobs: any BlobStore
    let key: BlobKey
    let size: UInt64

    func read(offset: UInt64, length: Int) async throws -> [UInt8] {
        guard length > 0 else { return [] }
        return try await blobs.read(key, range: ByteRange(Int64(offset), Int64(offset) + Int64(length) - 1))
    }
}
