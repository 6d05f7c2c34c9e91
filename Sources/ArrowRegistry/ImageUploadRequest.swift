import ArrowCore
import Foundation

/// The form fields of an upload, as text: what `POST /api/vm_images/upload` (and the multipart sign step) receive.
public struct ImageUploadFields: Sendable, Equatable {
    public var name: String?
    public var description: String?
    /// JSON: `[{name, version, ansible_role}]`.
    public var software: String?
    /// JSON: a list of flag names, or an object of flag name → bool.
    public var ansibleFlags: String?
    /// Hex SHA-256 the client computed; checked against the bytes received.
    public var sha256: String?
    /// The image this upload is a new version of.
    public var previousVersionID: String?
    /// For superusers, who may upload into any organization.
    public var organizationID: String?

    public init(
        name: String? = nil, description: String? = nil, software: String? = nil, ansibleFlags: String? = nil,
        sha256: String? = nil, previousVersionID: String? = nil, organizationID: String? = nil
    ) {
        self.name = name
        self.description = description
        self.software = software
        self.ansibleFlags = ansibleFlags
        self.sha256 = sha256
        self.previousVersionID = previousVersionID
        self.organizationID = organizationID
    }

    /// Sets a field by its form name; unknown names are refused so typos do not pass silently.
    public mutating func set(_ field: String, _ value: String) throws {
        switch field {
        case "name": name = value
        case "description": description = value
        case "software": software = value
        case "ansible_flags": ansibleFlags = value
        case "sha256": sha256 = value
        case "previous_version_id": previousVersionID = value
        case "organization_id": organizationID = value
        default: throw ArrowError(.unprocessable, reason: "unknown_field", "Unknown form field \(field)")
        }
    }

    /// The fields by form name, as a multipart session keeps them between sign and complete.
    public var formValues: [String: String] {
        let pairs: [(String, String?)] = [
            ("name", name), ("description", description), ("software", software), ("ansible_flags", ansibleFlags),
            ("sha256", sha256), ("previous_version_id", previousVersionID), ("organization_id", organizationID),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    public init(formValues: [String: String]) throws {
        for (key, value) in formValues { try set(key, value) }
    }

    /// The validated metadata.
    func metadata() throws -> ImageMetadata {
        ImageMetadata(
            name: try ImageMetadataRules.validate(name: name ?? ""),
            description: try ImageMetadataRules.validate(description: description.flatMap { $0.isEmpty ? nil : $0 }),
            software: try ImageMetadataRules.validate(software: try Self.decodeSoftware(software)),
            ansibleFlags: try Self.decodeFlags(ansibleFlags))
    }

    static func decodeSoftware(_ text: String?) throws -> [SoftwareEntry] {
        guard let text, !text.isEmpty else { return [] }
        do {
            return try JSONDecoder().decode([StrictSoftware].self, from: Data(text.utf8)).map(\.entry)
        } catch {
            throw ArrowError(.unprocessable, reason: "invalid_software",
                             "software must be a JSON list of {name, version, ansible_role} with no other keys")
        }
    }

    static func decodeFlags(_ text: String?) throws -> AnsibleFlags {
        guard let text, !text.isEmpty else { return try AnsibleFlags() }
        let data = Data(text.utf8)
        if let names = try? JSONDecoder().decode([String].self, from: data) { return try AnsibleFlags(enabled: Set(names)) }
        if let object = try? JSONDecoder().decode([String: Bool].self, from: data) {
            try _ = AnsibleFlags(enabled: Set(object.keys))
            return try AnsibleFlags(enabled: Set(object.filter(\.value).keys))
        }
        throw ArrowError(.unprocessable, reason: "invalid_ansible_flags",
                         "ansible_flags must be a JSON list of flag names or an object of flag → true/false")
    }
}

/// Validated image metadata.
public struct ImageMetadata: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var software: [SoftwareEntry]
    public var ansibleFlags: AnsibleFlags
}

/// A software entry that refuses unknown keys (a misspelt `ansible_role` must not pass as missing).
struct StrictSoftware: Decodable {
    let entry: SoftwareEntry

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        guard Set(keys).isSubset(of: ["name", "version", "ansible_role"]) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown key"))
        }
        entry = try SoftwareEntry(from: decoder)
    }
}
