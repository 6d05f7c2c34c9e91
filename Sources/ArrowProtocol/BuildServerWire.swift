import Foundation

/// `POST /api/organizations/{org_id}/build-servers`: a Proxmox VE endpoint. The token secret is write-only.
public struct BuildServerRequest: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var url: String
    public var tokenId: String
    public var tokenSecret: String
    public var node: String
    public var importStorage: String
    public var diskStorage: String?
    public var bridge: String?
    public var vlan: Int?
    public var caPem: String?
    /// A storage with `snippets` content, and the directory where builders see it (NetBird keys through cicustom).
    public var snippetsStorage: String?
    public var snippetsDirectory: String?
    /// The SHA-256 of the node's self-signed certificate (hex, colons allowed), pinned instead of a CA.
    public var tlsFingerprint: String?

    public init(id: String, name: String? = nil, url: String, tokenId: String, tokenSecret: String, node: String, importStorage: String,
                diskStorage: String? = nil, bridge: String? = nil, vlan: Int? = nil, caPem: String? = nil, snippetsStorage: String? = nil,
                snippetsDirectory: String? = nil, tlsFingerprint: String? = nil) {
        self.tlsFingerprint = tlsFingerprint
        self.snippetsStorage = snippetsStorage
        self.snippetsDirectory = snippetsDirectory
        self.id = id
        self.name = name
        self.url = url
        self.tokenId = tokenId
        self.tokenSecret = tokenSecret
        self.node = node
        self.importStorage = importStorage
        self.diskStorage = diskStorage
        self.bridge = bridge
        self.vlan = vlan
        self.caPem = caPem
    }
}

/// A build server as people see it: everything but the secret, which is only said to be set.
public struct BuildServerView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var url: String
    public var tokenId: String
    public var tokenSecretSet: Bool
    public var node: String
    public var importStorage: String
    public var diskStorage: String
    public var bridge: String
    public var vlan: Int?
    public var caPemSet: Bool
    public var snippetsStorage: String?
    public var snippetsDirectory: String?
    public var tlsFingerprint: String?
    public var createdAt: Date

    public init(id: String, name: String, url: String, tokenId: String, tokenSecretSet: Bool, node: String, importStorage: String, diskStorage: String,
                bridge: String, vlan: Int?, caPemSet: Bool, snippetsStorage: String? = nil, snippetsDirectory: String? = nil, tlsFingerprint: String? = nil,
                createdAt: Date) {
        self.tlsFingerprint = tlsFingerprint
        self.snippetsStorage = snippetsStorage
        self.snippetsDirectory = snippetsDirectory
        self.id = id
        self.name = name
        self.url = url
        self.tokenId = tokenId
        self.tokenSecretSet = tokenSecretSet
        self.node = node
        self.importStorage = importStorage
        self.diskStorage = diskStorage
        self.bridge = bridge
        self.vlan = vlan
        self.caPemSet = caPemSet
        self.createdAt = createdAt
    }
}

public struct BuildServerList: Codable, Sendable, Equatable {
    public var buildServers: [BuildServerView]
    public init(buildServers: [BuildServerView]) { self.buildServers = buildServers }
}

/// `POST …/build-servers/{id}/check`: read-only calls on the server and what a deployment would miss, in words.
public struct BuildServerCheck: Codable, Sendable, Equatable {
    public var ok: Bool
    public var version: String?
    public var problems: [String]
    public var notes: [String]

    public init(ok: Bool, version: String?, problems: [String], notes: [String]) {
        self.ok = ok
        self.version = version
        self.problems = problems
        self.notes = notes
    }
}

/// In an ImageConfig whose deployment target is `proxmox`: where to, with the token's secret (builders only).
public struct ProxmoxTarget: Codable, Sendable, Equatable {
    public var id: String
    public var url: String
    public var tokenId: String
    public var tokenSecret: String
    public var node: String
    public var importStorage: String
    public var diskStorage: String
    public var bridge: String
    public var vlan: Int?
    public var caPem: String?
    public var snippetsStorage: String?
    public var snippetsDirectory: String?
    public var tlsFingerprint: String?

    public init(id: String, url: String, tokenId: String, tokenSecret: String, node: String, importStorage: String, diskStorage: String, bridge: String,
                vlan: Int?, caPem: String?, snippetsStorage: String? = nil, snippetsDirectory: String? = nil, tlsFingerprint: String? = nil) {
        self.tlsFingerprint = tlsFingerprint
        self.snippetsStorage = snippetsStorage
        self.snippetsDirectory = snippetsDirectory
        self.id = id
        self.url = url
        self.tokenId = tokenId
        self.tokenSecret = tokenSecret
        self.node = node
        self.importStorage = importStorage
        self.diskStorage = diskStorage
        self.bridge = bridge
        self.vlan = vlan
        self.caPem = caPem
    }
}
