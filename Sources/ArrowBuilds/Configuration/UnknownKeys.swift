import ArrowCore
import ArrowProtocol
import Foundation

/// Finds keys a JSON body has that its type does not: Codable ignores them, which turns a typo into a setting
/// silently not applied. The allowed keys come from encoding a fully populated example of the type.
enum UnknownKeys {
    /// The first unknown key's path (`branding.motdd`), or nil.
    static func first(in body: JSONValue, allowed: JSONValue, path: String = "") -> String? {
        switch (body, allowed) {
        case (.object(let fields), .object(let known)):
            for key in fields.keys.sorted() {
                let here = path.isEmpty ? key : "\(path).\(key)"
                guard let schema = known[key] else { return here }
                if let found = first(in: fields[key]!, allowed: schema, path: here) { return found }
            }
            return nil
        case (.array(let items), .array(let known)):
            guard let schema = known.first else { return nil }
            for (index, item) in items.enumerated() {
                if let found = first(in: item, allowed: schema, path: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }

    /// Decodes `data` as `T`, refusing unknown keys with `reason` and the key's path.
    static func decode<T: Codable>(_: T.Type, from data: Data, example: T, reason: String) throws -> T {
        let decoder = WireJSON.decoder()
        let value: T
        do {
            value = try decoder.decode(T.self, from: data)
        } catch {
            throw ArrowError(.invalidInput, reason: "invalid_json", "The body is not a valid document: \(DecodingErrorText.describe(error))")
        }
        let body = try JSONDecoder().decode(JSONValue.self, from: data)
        let allowed = try JSONDecoder().decode(JSONValue.self, from: WireJSON.encoder().encode(example))
        if let key = first(in: body, allowed: allowed) {
            throw ArrowError(.unprocessable, reason: reason, "Unknown field \(key)")
        }
        return value
    }
}

/// A decoding error as a short text naming the field, without echoing values.
enum DecodingErrorText {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "malformed JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the document" : text
        }
        switch error {
        case .typeMismatch(_, let context): return "\(path(context)) has the wrong type"
        case .valueNotFound(_, let context): return "\(path(context)) is missing"
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .dataCorrupted: return "malformed JSON"
        @unknown default: return "malformed JSON"
        }
    }
}

extension ClientConfigDocument {
    /// Every field set, for the unknown-key check and the API documentation.
    static let fullExample = ClientConfigDocument(
        vpnConfig: .init(managementUrl: "https://netbird.example.org", setupKey: "(secret)", packageRepository: "https://pkgs.netbird.io/debian",
                         groups: ["builds"], apiUrl: "https://api.netbird.io", apiToken: "(secret)"),
        networkSettings: .init(hostname: "lab-01", domain: "example.org", interface: "eth0", mode: "static", address: "10.0.0.5/24",
                               gateway: "10.0.0.1", dns: ["10.0.0.1"]),
        branding: .init(organizationName: "Example", motd: "Welcome", issue: "Example", loginBanner: "Authorized use only",
                        logoBase64: "", wallpaperBase64: "", primaryColor: "#003366"),
        defaultSoftware: [SoftwareSpec(name: "curl", version: "latest", ansibleRole: "security-tools")],
        users: [.init(name: "operator", passwordHash: "$6$…", sshAuthorizedKeys: ["ssh-ed25519 AAAA… operator"], sudo: true, shell: "/bin/bash")],
        timezone: "UTC", requireVerifiedImages: true, deployment: .init(target: "proxmox", buildServerId: "pve-lab"))
}
