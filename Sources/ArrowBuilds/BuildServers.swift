import ArrowCore
import ArrowProtocol
import Foundation

/// Asks a Proxmox VE endpoint, read-only, whether deployments there can work (the app's adapter speaks PVE's API).
public protocol BuildServerProbe: Sendable {
    func check(_ settings: BuildServer.Settings, tokenSecret: String) async -> BuildServerCheck
}

/// Organizations' Proxmox VE endpoints: admins add, list, check and remove them; the token secret is sealed at rest,
/// never shown, and opened only for a builder holding the lease of a task deploying there (``target(for:)``).
public struct BuildServers: Sendable {
    let store: any DataStore
    let box: SecretBox
    let probe: (any BuildServerProbe)?
    let now: @Sendable () -> Date

    public init(store: any DataStore, box: SecretBox, probe: (any BuildServerProbe)?, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.box = box
        self.probe = probe
        self.now = now
    }

    public func add(organization: String, _ request: BuildServerRequest, principal: Principal) async throws -> BuildServerView {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store)
        try BuildServerRules.validate(request)
        let settings = BuildServer.Settings(
            url: request.url, tokenId: request.tokenId, node: request.node, importStorage: request.importStorage,
            diskStorage: request.diskStorage ?? "local-lvm", bridge: request.bridge ?? "vmbr0", vlan: request.vlan,
            caPem: request.caPem.flatMap { $0.isEmpty ? nil : $0 }, snippetsStorage: request.snippetsStorage, snippetsDirectory: request.snippetsDirectory,
            tlsFingerprint: request.tlsFingerprint.flatMap(BuildServerRules.fingerprint))
        let at = now()
        let server = BuildServer(id: request.id, organizationID: organization, name: request.name ?? request.id, settings: settings,
                                 sealedSecret: try box.seal(request.tokenSecret, context: Self.context(organization, request.id)),
                                 createdAt: at, createdBy: principal.user.id)
        try await store.transaction { repos in
            guard try await repos.buildServers.insert(server) else {
                throw ArrowError(.conflict, reason: "build_server_exists", "The organization already has a build server \(request.id)")
            }
            try await repos.audit.append(AuditEvent(organizationID: organization, actorID: principal.user.id, action: .buildServerAdded,
                                                    target: request.id, details: ["url": request.url, "node": request.node], createdAt: at))
        }
        return Self.view(server)
    }

    public func list(organization: String, principal: Principal) async throws -> BuildServerList {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store)
        return BuildServerList(buildServers: try await store.repositories.buildServers.list(organization: organization).map(Self.view))
    }

    public func remove(organization: String, id: String, principal: Principal) async throws {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store)
        try await store.transaction { repos in
            guard try await repos.buildServers.delete(id: id, organization: organization) else { throw ArrowError.notFound("Build server") }
            try await repos.audit.append(AuditEvent(organizationID: organization, actorID: principal.user.id, action: .buildServerRemoved,
                                                    target: id, details: [:], createdAt: now()))
        }
    }

    public func check(organization: String, id: String, principal: Principal) async throws -> BuildServerCheck {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store)
        guard let server = try await store.repositories.buildServers.find(id: id, organization: organization) else { throw ArrowError.notFound("Build server") }
        guard let probe else {
            throw ArrowError(.unavailable, reason: "build_server_check_unavailable", "This server cannot reach build servers")
        }
        return await probe.check(server.settings, tokenSecret: try box.open(server.sealedSecret, context: Self.context(organization, id)))
    }

    /// The deployment target of a task deploying to `server`, secret opened (for the builder holding its lease).
    func target(server id: String, organization: OrganizationID) async throws -> ProxmoxTarget {
        guard let server = try await store.repositories.buildServers.find(id: id, organization: organization) else {
            throw ArrowError(.unprocessable, reason: "unknown_build_server", "The task's build server \(id) was removed")
        }
        let settings = server.settings
        return ProxmoxTarget(id: server.id, url: settings.url, tokenId: settings.tokenId,
                             tokenSecret: try box.open(server.sealedSecret, context: Self.context(organization, id)), node: settings.node,
                             importStorage: settings.importStorage, diskStorage: settings.diskStorage, bridge: settings.bridge, vlan: settings.vlan,
                             caPem: settings.caPem, snippetsStorage: settings.snippetsStorage, snippetsDirectory: settings.snippetsDirectory,
                             tlsFingerprint: settings.tlsFingerprint)
    }

    static func context(_ organization: OrganizationID, _ id: String) -> String { "build_server/\(organization.rawValue)/\(id)/token_secret" }

    static func view(_ server: BuildServer) -> BuildServerView {
        let settings = server.settings
        return BuildServerView(id: server.id, name: server.name, url: settings.url, tokenId: settings.tokenId, tokenSecretSet: true, node: settings.node,
                               importStorage: settings.importStorage, diskStorage: settings.diskStorage, bridge: settings.bridge, vlan: settings.vlan,
                               caPemSet: settings.caPem != nil, snippetsStorage: settings.snippetsStorage, snippetsDirectory: settings.snippetsDirectory,
                               tlsFingerprint: settings.tlsFingerprint, createdAt: server.createdAt)
    }
}

/// What a build server's fields must look like (PVE's own formats where PVE has one).
public enum BuildServerRules {
    public static let idRule = "1 to 64 of a-z, 0-9, '-', '_', '.', starting with a letter or digit"

    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.count) && id.first.map { $0.isASCII && ($0.isLowercase || $0.isNumber) } == true
            && id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "-_.".contains($0)) }
    }

    /// A SHA-256 fingerprint as stored: lower-case hex without colons; nil when it is not one.
    static func fingerprint(_ text: String) -> String? {
        let hex = text.lowercased().filter { $0 != ":" }
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit) ? hex : nil
    }

    static func validate(_ request: BuildServerRequest) throws {
        func invalid(_ message: String) -> ArrowError { ArrowError(.unprocessable, reason: "invalid_build_server", message) }
        guard isValidID(request.id) else { throw invalid("id: \(idRule)") }
        if let name = request.name, !(1...128).contains(name.count) { throw invalid("name: 1 to 128 characters") }
        guard let url = URL(string: request.url), let scheme = url.scheme, let host = url.host, !host.isEmpty, url.user == nil,
              url.path.isEmpty || url.path == "/", url.query == nil else {
            throw invalid("url: the node's address, e.g. https://pve.example.org:8006")
        }
        // The token travels in every request: plain HTTP only to this host itself (tests, an SSH tunnel).
        guard scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)) else {
            throw invalid("url: https is required (http only to a loopback address)")
        }
        guard request.tokenId.range(of: #"^[^\s:/@!]+@[A-Za-z][A-Za-z0-9._-]*![A-Za-z][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil,
              request.tokenId.count <= 128 else {
            throw invalid("token_id: USER@REALM!TOKENID, e.g. arrow@pve!deploy")
        }
        guard (1...256).contains(request.tokenSecret.count), !request.tokenSecret.contains(where: { $0.isWhitespace || $0 == "=" }) else {
            throw invalid("token_secret: 1 to 256 characters, no spaces")
        }
        guard request.node.range(of: #"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$"#, options: .regularExpression) != nil else {
            throw invalid("node: a Proxmox VE node name")
        }
        for (field, value) in [("import_storage", request.importStorage), ("disk_storage", request.diskStorage ?? "local-lvm"),
                               ("snippets_storage", request.snippetsStorage ?? "local")]
        where value.range(of: #"^[a-z][a-z0-9._-]{0,62}[a-z0-9]$"#, options: .regularExpression) == nil {
            throw invalid("\(field): a Proxmox VE storage id")
        }
        if let bridge = request.bridge, bridge.range(of: #"^[A-Za-z0-9_.-]{1,64}$"#, options: .regularExpression) == nil {
            throw invalid("bridge: a bridge name such as vmbr0")
        }
        if let vlan = request.vlan, !(1...4094).contains(vlan) { throw invalid("vlan: 1 to 4094") }
        guard (request.snippetsStorage == nil) == (request.snippetsDirectory == nil) else {
            throw invalid("snippets_storage and snippets_directory go together (the storage, and where builders see its snippets)")
        }
        if let directory = request.snippetsDirectory, !directory.hasPrefix("/") || directory.split(separator: "/").contains("..") || directory.count > 1024 {
            throw invalid("snippets_directory: an absolute path on the builder hosts")
        }
        if let pin = request.tlsFingerprint {
            guard fingerprint(pin) != nil else { throw invalid("tls_fingerprint: the certificate's SHA-256, 64 hex digits (colons allowed)") }
            guard scheme == "https" else { throw invalid("tls_fingerprint: only with an https url") }
            guard request.caPem?.isEmpty ?? true else { throw invalid("give ca_pem or tls_fingerprint, not both") }
        }
        if let pem = request.caPem, !pem.isEmpty, !pem.contains("-----BEGIN CERTIFICATE-----") || pem.count > 65536 {
            throw invalid("ca_pem: PEM certificates (-----BEGIN CERTIFICATE-----), at most 64 KB")
        }
    }
}
