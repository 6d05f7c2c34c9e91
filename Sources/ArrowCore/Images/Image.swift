import Foundation

public enum ImageTag {}
public typealias ImageID = Identifier<ImageTag>

/// A VM image in an organization's collection: the spec's metadata fields plus what inspection established.
public struct Image: Sendable, Equatable {
    public var id: ImageID
    public var organizationID: OrganizationID
    public var name: String
    public var description: String?
    /// The original file name, as uploaded.
    public var fileName: String
    /// Bytes stored.
    public var fileSize: Int64
    /// MIME type of the detected format.
    public var fileType: String
    /// The storage reference (the object key in the bucket): the spec's `b2_file_id`.
    public var storageKey: String
    public var format: String
    public var virtualSize: Int64
    public var sha256: String
    public var status: ImageStatus
    public var software: [SoftwareEntry]
    public var ansibleFlags: AnsibleFlags
    public var version: Int
    public var previousVersionID: ImageID?
    public var uploadedBy: UserID?
    public var createdAt: Date
    public var updatedAt: Date
    /// Made public by a superuser: in every organization's collection.
    public var isPublic: Bool
    /// The stable URL of its public download copy (`B2_PUBLIC_BUCKET`, or the local store's public area), if published.
    public var downloadURL: String?

    public init(
        id: ImageID, organizationID: OrganizationID, name: String, description: String?, fileName: String, fileSize: Int64,
        fileType: String, storageKey: String, format: String, virtualSize: Int64, sha256: String, status: ImageStatus,
        software: [SoftwareEntry], ansibleFlags: AnsibleFlags, version: Int, previousVersionID: ImageID?, uploadedBy: UserID?,
        createdAt: Date, updatedAt: Date, isPublic: Bool = false, downloadURL: String? = nil
    ) {
        self.downloadURL = downloadURL
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.description = description
        self.fileName = fileName
        self.fileSize = fileSize
        self.fileType = fileType
        self.storageKey = storageKey
        self.format = format
        self.virtualSize = virtualSize
        self.sha256 = sha256
        self.status = status
        self.software = software
        self.ansibleFlags = ansibleFlags
        self.version = version
        self.previousVersionID = previousVersionID
        self.uploadedBy = uploadedBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.isPublic = isPublic
    }
}

/// The image lifecycle: `uploading → active`, `active → deleted`. A rejected upload leaves no row and no object;
/// only `active` images are usable or listed by default.
public enum ImageStatus: String, Sendable, Codable, CaseIterable {
    case uploading
    case active
    case deleted
}

/// One entry of the spec's software list: `{name, version, ansible_role}`.
public struct SoftwareEntry: Sendable, Equatable, Codable {
    public var name: String
    public var version: String
    public var ansibleRole: String

    enum CodingKeys: String, CodingKey {
        case name, version
        case ansibleRole = "ansible_role"
    }

    public init(name: String, version: String, ansibleRole: String) {
        self.name = name
        self.version = version
        self.ansibleRole = ansibleRole
    }
}

/// The spec's four configuration flags; every flag is present, off unless set.
public struct AnsibleFlags: Sendable, Equatable {
    public static let names = ["install_vpn", "harden_ssh", "install_monitoring", "apply_branding"]
    public private(set) var enabled: Set<String>
    /// Every flag off.
    public static let none = AnsibleFlags(unchecked: [])

    private init(unchecked: Set<String>) { enabled = unchecked }

    public init(enabled: Set<String> = []) throws {
        let unknown = enabled.subtracting(Self.names)
        guard unknown.isEmpty else {
            throw ArrowError(.unprocessable, reason: "unknown_ansible_flag",
                             "Unknown ansible flag \(unknown.sorted().joined(separator: ", ")); known: \(Self.names.joined(separator: ", "))")
        }
        self.enabled = enabled
    }

    /// Every flag with its value, as the API shows them.
    public var all: [String: Bool] { Dictionary(uniqueKeysWithValues: Self.names.map { ($0, enabled.contains($0)) }) }
}

/// Metadata rules shared by uploads and updates.
public enum ImageMetadataRules {
    public static let maximumNameLength = 255
    public static let maximumDescriptionLength = 4000
    public static let maximumSoftwareEntries = 200

    public static func validate(name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maximumNameLength, !trimmed.contains(where: { $0.isNewline }) else {
            throw ArrowError(.unprocessable, reason: "invalid_name", "name must be 1 to \(maximumNameLength) characters on one line")
        }
        return trimmed
    }

    public static func validate(description: String?) throws -> String? {
        guard let description else { return nil }
        guard description.count <= maximumDescriptionLength else {
            throw ArrowError(.unprocessable, reason: "invalid_description", "description is longer than \(maximumDescriptionLength) characters")
        }
        return description
    }

    /// Names and versions are package-like tokens; roles are Ansible role names (letters, digits, `_ . -`).
    public static func validate(software: [SoftwareEntry]) throws -> [SoftwareEntry] {
        guard software.count <= maximumSoftwareEntries else {
            throw ArrowError(.unprocessable, reason: "invalid_software", "software has more than \(maximumSoftwareEntries) entries")
        }
        for (index, entry) in software.enumerated() {
            for (field, value, extra) in [("name", entry.name, "+"), ("version", entry.version, "+~:"), ("ansible_role", entry.ansibleRole, "")] {
                let allowed = value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0) || extra.contains($0)) }
                guard !value.isEmpty, value.count <= 100, allowed else {
                    throw ArrowError(.unprocessable, reason: "invalid_software",
                                     "software[\(index)].\(field) must be 1 to 100 letters, digits or ._-\(extra)")
                }
            }
        }
        return software
    }
}
