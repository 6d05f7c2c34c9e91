import ArrowCore
import ArrowFormats
import Foundation
import Logging

/// The image registry: validated uploads, the collection, metadata, versions and downloads. Every rule about
/// images lives here, behind the ports; the API layer only translates HTTP.
public struct ImageRegistry: Sendable {
    public let store: any DataStore
    public let blobs: any BlobStore
    public let clock: any Clock
    public let limits: UploadLimits
    /// The server process this registry runs in: it owns the uploads it streams (see ``sweepOrphanedUploads(live:)``).
    public let instanceID: String
    let logger: Logger

    public init(
        store: any DataStore, blobs: any BlobStore, clock: any Clock = SystemClock(), limits: UploadLimits = UploadLimits(),
        instanceID: String = UUID().uuidString.lowercased(), logger: Logger
    ) {
        self.instanceID = instanceID
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.limits = limits
        self.logger = logger
    }

    var repos: Repositories { store.repositories }

    /// A permission to stream one upload: who, into which organization, checked against the rate limit.
    public struct UploadTicket: Sendable {
        public let principal: Principal
        public let organization: OrganizationID
    }

    /// Checks the caller may upload and takes one slot of the hourly rate limit (kept in the database, so it holds
    /// across restarts and API servers). Call before reading the file.
    /// - Throws: `forbidden`, or `rate_limited` with the seconds until a slot frees up.
    public func beginUpload(principal: Principal, organization requested: String?) async throws -> UploadTicket {
        try principal.requireHuman()
        try principal.require(.imageUpload)
        let organization = try targetOrganization(principal, requested: requested)
        let now = clock.now()
        let (limit, window) = (limits.uploadsPerHour, TimeInterval(3600))
        try await store.transaction { repos in
            try await repos.uploadAttempts.lock(user: principal.user.id)
            if limit > 0 {
                let recent = try await repos.uploadAttempts.attempts(user: principal.user.id, since: now.addingTimeInterval(-window))
                if recent.count >= limit, let oldest = recent.first {
                    let wait = Int((oldest.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up))
                    throw ArrowError(.rateLimited, reason: "upload_rate_limited",
                                     "At most \(limit) uploads per hour; try again in \(max(wait, 1)) s", retryAfter: max(wait, 1))
                }
            }
            try await repos.uploadAttempts.record(user: principal.user.id, at: now)
        }
        return UploadTicket(principal: principal, organization: organization)
    }

    /// Streams one image into storage through the inspector and the hash, then activates it, or removes every
    /// trace of it and says which check failed.
    /// - Parameters:
    ///   - fileName: the client's file name (its last path component is kept).
    ///   - fileType: the part's Content-Type, compared with the detected format when specific.
    ///   - body: the file's bytes, in order.
    ///   - fields: the form fields, read after the body (fields may follow the file, like a client-side SHA-256).
    public func upload(
        _ ticket: UploadTicket, fileName rawFileName: String, fileType: String?, body: BlobBody,
        fields: @Sendable () async throws -> ImageUploadFields
    ) async throws -> Image {
        let fileName = try Self.validate(fileName: rawFileName)
        let now = clock.now()
        let id = ImageID.generate()
        let key = try StorageLayout.image(id: id.rawValue, fileName: fileName)
        var image = Image.placeholder(id: id, organization: ticket.organization, fileName: fileName, key: key,
                                      uploadedBy: ticket.principal.user.id, at: now)
        try await repos.images.create(image, uploadOwner: instanceID)
        let pipeline = UploadPipeline(maximum: limits.single.upperBound)
        do {
            _ = try await blobs.put(key, body: pipeline.wrap(body), length: nil)
            let received = try await fields()
            let (findings, sha256, size) = pipeline.finish()
            let report = Judgement.judge(findings, fileName: fileName, fileType: fileType)
            try checkMinimum(size: size, limits.single.lowerBound)
            try check(report, declaredSHA256: received.sha256, actualSHA256: sha256)
            try await finish(&image, report: report, sha256: sha256, size: size, fields: received, principal: ticket.principal)
            return try await activate(image, actor: ticket.principal)
        } catch {
            await discard(image, key: key, error: error, actor: ticket.principal)
            throw error
        }
    }

    /// Fills in what the checks established and the fields' metadata, and links the previous version.
    func finish(_ image: inout Image, report: InspectionReport, sha256: String, size: Int64, fields: ImageUploadFields, principal: Principal) async throws {
        let metadata = try fields.metadata()
        let previous = try await previousVersion(fields.previousVersionID, organization: image.organizationID, principal: principal)
        image.apply(metadata)
        image.fileSize = size
        image.sha256 = sha256
        image.format = report.format.rawValue
        image.fileType = report.format.mimeType
        image.virtualSize = Int64(clamping: report.virtualSize)
        image.version = (previous?.version ?? 0) + 1
        image.previousVersionID = previous?.id
        image.status = .active
        image.updatedAt = clock.now()
    }

    func activate(_ image: Image, actor: Principal) async throws -> Image {
        try await store.transaction { repos in
            guard try await repos.images.update(image, scope: .all) else {
                throw ArrowError(.conflict, reason: "upload_abandoned", "The upload was cleaned up before it finished")
            }
            try await repos.audit.append(AuditEvent(
                organizationID: image.organizationID, actorID: actor.user.id, action: .imageUploaded, target: image.id.rawValue,
                details: ["format": image.format, "size": String(image.fileSize), "sha256": image.sha256], createdAt: image.updatedAt))
        }
        return image
    }

    /// Removes the object and the row of a failed upload, and records why.
    func discard(_ image: Image, key: BlobKey, error: any Error, actor: Principal) async {
        do {
            try await removeObject(key.rawValue)
        } catch {
            logger.error("could not delete a rejected upload; the janitor will retry", metadata: ["key": "\(key)", "error": "\(error)"])
        }
        _ = try? await repos.images.delete(id: image.id)
        let reason = (error as? ArrowError)?.publicCode ?? "interrupted"
        try? await repos.audit.append(AuditEvent(
            organizationID: image.organizationID, actorID: actor.user.id, action: .imageRejected, target: image.fileName,
            details: ["reason": reason, "message": (error as? ArrowError)?.message ?? "upload interrupted"], createdAt: clock.now()))
    }

    /// The lower size limit; the upper one is enforced while reading, by ``UploadPipeline``.
    func checkMinimum(size: Int64, _ minimum: Int64) throws {
        if size < minimum {
            throw ArrowError(.unprocessable, reason: "file_too_small", "The file is smaller than \(UploadLimits.describe(minimum))")
        }
    }

    func check(_ report: InspectionReport, declaredSHA256: String?, actualSHA256: String) throws {
        if let violation = report.violations.first {
            throw ArrowError(.unprocessable, reason: "image_rejected", "Image rejected: \(violation.check): \(violation.message)",
                             failedChecks: report.violations.map { FailedCheck(check: $0.check, message: $0.message) })
        }
        if let declared = declaredSHA256?.lowercased(), !declared.isEmpty, declared != actualSHA256 {
            throw ArrowError(.unprocessable, reason: "checksum_mismatch", "The file's SHA-256 is \(actualSHA256), not \(declared)")
        }
    }

    func previousVersion(_ id: String?, organization: OrganizationID, principal: Principal) async throws -> Image? {
        guard let id, !id.isEmpty else { return nil }
        guard let previous = try await repos.images.find(id: ImageID(id), scope: principal.scope),
              previous.status == .active, previous.organizationID == organization
        else { throw ArrowError(.unprocessable, reason: "invalid_previous_version", "previous_version_id is not an active image of this organization") }
        return previous
    }

    func targetOrganization(_ principal: Principal, requested: String?) throws -> OrganizationID {
        if let requested, !requested.isEmpty {
            let organization = OrganizationID(requested)
            try principal.requireAccess(to: organization)
            return organization
        }
        guard let own = principal.user.organizationID else {
            throw ArrowError(.unprocessable, reason: "organization_required", "Say which organization the image belongs to (organization_id)")
        }
        return own
    }

    /// The last path component of a client file name (browsers may send `C:\fakepath\disk.iso`), bounded.
    static func validate(fileName: String) throws -> String {
        let last = fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        guard !last.isEmpty, last.count <= 255, last != ".", last != "..",
              !last.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ArrowError(.unprocessable, reason: "invalid_file_name", "The file needs a name of 1 to 255 printable characters")
        }
        return last
    }
}

extension Image {
    /// The `uploading` row that stands for an upload until it is judged (never listed as usable).
    static func placeholder(id: ImageID, organization: OrganizationID, fileName: String, key: BlobKey, uploadedBy: UserID, at now: Date) -> Image {
        Image(
            id: id, organizationID: organization, name: fileName, description: nil, fileName: fileName, fileSize: 0,
            fileType: "application/octet-stream", storageKey: key.rawValue, format: ImageFormat.unknown.rawValue, virtualSize: 0,
            sha256: "", status: .uploading, software: [], ansibleFlags: AnsibleFlags.none, version: 1, previousVersionID: nil,
            uploadedBy: uploadedBy, createdAt: now, updatedAt: now)
    }

    mutating func apply(_ metadata: ImageMetadata) {
        name = metadata.name
        description = metadata.description
        software = metadata.software
        ansibleFlags = metadata.ansibleFlags
    }
}
