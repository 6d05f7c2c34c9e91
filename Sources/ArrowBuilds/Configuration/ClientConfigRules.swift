import ArrowCore
import ArrowProtocol
import Foundation

/// What a ClientConfig may hold, and where its secrets are. Pure: the tests walk every rule.
enum ClientConfigRules {
    /// A secret field of the document: its path as admins see it, and how to read and write it.
    struct SecretField {
        var path: String
        var get: (ClientConfigDocument) -> String?
        var set: (inout ClientConfigDocument, String?) -> Void
    }

    /// Every secret field of `document` (one per user for password hashes, named by user).
    static func secretFields(of document: ClientConfigDocument) -> [SecretField] {
        var fields = [SecretField(path: "vpn_config.setup_key", get: { $0.vpnConfig?.setupKey }, set: { document, value in
            if document.vpnConfig == nil, value == nil { return }
            document.vpnConfig = document.vpnConfig ?? .init()
            document.vpnConfig?.setupKey = value
        }), SecretField(path: "vpn_config.api_token", get: { $0.vpnConfig?.apiToken }, set: { document, value in
            if document.vpnConfig == nil, value == nil { return }
            document.vpnConfig = document.vpnConfig ?? .init()
            document.vpnConfig?.apiToken = value
        })]
        for user in document.users ?? [] {
            let name = user.name
            fields.append(SecretField(
                path: "users[\(name)].password_hash",
                get: { $0.users?.first(where: { $0.name == name })?.passwordHash },
                set: { document, value in
                    guard let index = document.users?.firstIndex(where: { $0.name == name }) else { return }
                    document.users?[index].passwordHash = value
                }))
        }
        return fields
    }

    /// The document with every secret passed through `transform` (seal, open); `path` names the field.
    static func mapSecrets(_ document: ClientConfigDocument, _ transform: (_ path: String, String) throws -> String) rethrows -> ClientConfigDocument {
        var result = document
        for field in secretFields(of: document) {
            if let value = field.get(document) { field.set(&result, try transform(field.path, value)) }
        }
        return result
    }

    /// The document without its secrets, and the paths of those that were set.
    static func redacted(_ document: ClientConfigDocument) -> (ClientConfigDocument, [String]) {
        var result = document
        var set: [String] = []
        for field in secretFields(of: document) where field.get(document) != nil {
            set.append(field.path)
            field.set(&result, nil)
        }
        if result.vpnConfig == ClientConfigDocument.VPNConfig() { result.vpnConfig = nil }
        return (result, set.sorted())
    }

    /// A write from a person: secrets left out keep their stored value; an empty string clears one.
    static func merge(_ incoming: ClientConfigDocument, over stored: ClientConfigDocument?) -> ClientConfigDocument {
        var result = incoming
        for field in secretFields(of: incoming) {
            switch field.get(incoming) {
            case .none: field.set(&result, stored.flatMap { field.get($0) })
            case .some(""): field.set(&result, nil)
            case .some: break
            }
        }
        return result
    }

    // MARK: Validation

    static func validate(_ document: ClientConfigDocument) throws {
        if let vpn = document.vpnConfig {
            if let url = vpn.managementUrl { try httpURL(url, "vpn_config.management_url") }
            if let url = vpn.packageRepository { try httpURL(url, "vpn_config.package_repository") }
            if let url = vpn.apiUrl { try httpURL(url, "vpn_config.api_url") }
            if let token = vpn.apiToken, token.count > 256 || token.contains(where: { $0.isNewline || $0 == " " }) {
                throw invalid("vpn_config.api_token: at most 256 characters, no spaces")
            }
            if let key = vpn.setupKey, key.count > 256 || key.contains(where: \.isNewline) {
                throw invalid("vpn_config.setup_key: at most 256 characters on one line")
            }
            for group in vpn.groups ?? [] where !(1...128).contains(group.count) { throw invalid("vpn_config.groups: names of 1 to 128 characters") }
        }
        if let network = document.networkSettings { try validate(network) }
        if let branding = document.branding { try validate(branding) }
        for item in document.defaultSoftware ?? [] { try software(item, "default_software") }
        var names: Set<String> = []
        for user in document.users ?? [] {
            try validate(user)
            guard names.insert(user.name).inserted else { throw invalid("users: \(user.name) appears twice") }
        }
        if (document.users?.count ?? 0) > 50 { throw invalid("users: at most 50") }
        if let target = document.deployment?.target, BuildOptions.DeploymentTarget(rawValue: target) == nil {
            throw invalid("deployment.target: one of " + BuildOptions.DeploymentTarget.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if document.deployment?.target == BuildOptions.DeploymentTarget.proxmox.rawValue, document.deployment?.buildServerId == nil {
            // Else every trigger that names no server would be refused.
            throw invalid("deployment: a proxmox target needs build_server_id")
        }
        if let server = document.deployment?.buildServerId, !BuildServerRules.isValidID(server) {
            throw invalid("deployment.build_server_id: \(BuildServerRules.idRule)")
        }
        if let zone = document.timezone, TimeZone(identifier: zone) == nil || zone.contains("..") {
            throw invalid("timezone: \(zone) is not an IANA time zone name")
        }
    }

    static func validate(_ network: ClientConfigDocument.NetworkSettings) throws {
        if let hostname = network.hostname, !BuildOptions.isValidHostname(hostname) { throw invalid("network_settings.hostname is not a valid host name") }
        if let domain = network.domain, !BuildOptions.isValidHostname(domain) { throw invalid("network_settings.domain is not a valid domain name") }
        if let interface = network.interface, !(1...15).contains(interface.count)
            || !interface.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            throw invalid("network_settings.interface is not an interface name")
        }
        switch network.mode ?? "dhcp" {
        case "dhcp":
            if network.address != nil || network.gateway != nil { throw invalid("network_settings: address and gateway need mode static") }
        case "static":
            guard let address = network.address, IPAddressText.isCIDR(address) else {
                throw invalid("network_settings.address: mode static needs an address in CIDR notation (10.0.0.5/24)")
            }
            if let gateway = network.gateway, !IPAddressText.isAddress(gateway) { throw invalid("network_settings.gateway is not an IP address") }
        default:
            throw invalid("network_settings.mode must be dhcp or static")
        }
        for server in network.dns ?? [] where !IPAddressText.isAddress(server) { throw invalid("network_settings.dns: \(server) is not an IP address") }
    }

    static func validate(_ branding: ClientConfigDocument.Branding) throws {
        for (text, name) in [(branding.motd, "motd"), (branding.issue, "issue"), (branding.loginBanner, "login_banner")] {
            if let text, text.utf8.count > 16_384 { throw invalid("branding.\(name): at most 16 KiB") }
        }
        if let name = branding.organizationName, name.count > 200 { throw invalid("branding.organization_name: at most 200 characters") }
        if let color = branding.primaryColor, color.count != 7 || color.first != "#" || !color.dropFirst().allSatisfy(\.isHexDigit) {
            throw invalid("branding.primary_color must be #rrggbb")
        }
        for (data, name, limit) in [(branding.logoBase64, "logo_base64", 256 << 10), (branding.wallpaperBase64, "wallpaper_base64", 2 << 20)] {
            guard let data else { continue }
            guard let bytes = Data(base64Encoded: data) else { throw invalid("branding.\(name) is not base64") }
            if bytes.count > limit { throw invalid("branding.\(name): at most \(limit >> 10) KiB") }
        }
    }

    static func validate(_ user: ClientConfigDocument.ImageUser) throws {
        // useradd's portable name rule, and never an account the image itself needs.
        let name = user.name
        guard (1...32).contains(name.count), let first = name.first, first.isLowercase || first == "_",
              name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw invalid("users: \(name) is not a valid user name (lowercase letters, digits, _ and -, 1 to 32)")
        }
        if ["root", "daemon", "bin", "sys", "nobody", "sshd", "systemd-network"].contains(name) { throw invalid("users: \(name) is a system account") }
        if let hash = user.passwordHash, !hash.isEmpty {
            let schemes = ["$6$", "$5$", "$y$", "$2b$", "$2y$"]
            guard schemes.contains(where: hash.hasPrefix), hash.count <= 256, !hash.contains(where: { $0 == ":" || $0.isNewline || $0.isWhitespace }) else {
                throw invalid("users[\(name)].password_hash must be a crypt(3) hash ($6$, $5$, $y$ or $2b$), not a password")
            }
        }
        for key in user.sshAuthorizedKeys ?? [] {
            let parts = key.split(separator: " ")
            guard parts.count >= 2, key.count <= 16_384, !key.contains(where: \.isNewline),
                  parts[0].hasPrefix("ssh-") || parts[0].hasPrefix("ecdsa-") || parts[0].hasPrefix("sk-"),
                  Data(base64Encoded: String(parts[1])) != nil else {
                throw invalid("users[\(name)].ssh_authorized_keys: not an OpenSSH public key line")
            }
        }
        if let shell = user.shell, !shell.hasPrefix("/") || shell.contains("..") || shell.contains(where: \.isWhitespace) {
            throw invalid("users[\(name)].shell must be an absolute path")
        }
    }

    static func software(_ item: SoftwareSpec, _ field: String) throws {
        let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.+:".contains($0)) }
        guard (1...128).contains(item.name.count), item.name.allSatisfy(allowed) else {
            throw invalid("\(field): \(item.name) is not a package or software name")
        }
        if let version = item.version, !(1...64).contains(version.count) || !version.allSatisfy(allowed) {
            throw invalid("\(field): version of \(item.name) is not a version")
        }
        if let role = item.ansibleRole, !(1...64).contains(role.count) || !role.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) || role.hasPrefix(".") {
            throw invalid("\(field): ansible_role of \(item.name) is not a role name")
        }
    }

    static func httpURL(_ text: String, _ field: String) throws {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil, text.count <= 2048 else {
            throw invalid("\(field) must be an http(s) URL")
        }
    }

    static func invalid(_ message: String) -> ArrowError { ArrowError(.unprocessable, reason: "invalid_client_config", message) }
}

/// IPv4 and IPv6 address text, checked with the C library's parser.
public enum IPAddressText {
    public static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    public static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]) else { return false }
        let address = String(parts[0])
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return (0...32).contains(bits) }
        return isAddress(address) && (0...128).contains(bits)
    }
}
