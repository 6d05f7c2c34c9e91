import Foundation

/// A Proxmox VE endpoint an organization's builds deploy to. The API token's secret is kept sealed (``sealedSecret``)
/// and opened only for a builder holding the lease of a task that deploys there.
public struct BuildServer: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    public var name: String
    public var settings: Settings
    public var sealedSecret: String
    public var createdAt: Date
    public var createdBy: UserID?

    public struct Settings: Codable, Sendable, Equatable {
        /// `https://pve.example.org:8006`.
        public var url: String
        /// `USER@REALM!TOKENID`.
        public var tokenId: String
        public var node: String
        /// Where uploads go (`import` content, or `iso` for root@pam's fallback).
        public var importStorage: String
        /// Where the VM's disks go (`images` content).
        public var diskStorage: String
        public var bridge: String
        public var vlan: Int?
        /// PEM of the CA that signs the node's certificate (`/etc/pve/pve-root-ca.pem`); nil: the system's trust store.
        public var caPem: String?
        /// A PVE storage with `snippets` content, and where this builder host sees its snippets directory (a shared
        /// file system): how a first-boot secret (the NetBird setup key) reaches a VM through `cicustom`.
        public var snippetsStorage: String?
        public var snippetsDirectory: String?
        /// The SHA-256 of the node's (self-signed) certificate, pinned instead of a CA.
        public var tlsFingerprint: String?

        public init(url: String, tokenId: String, node: String, importStorage: String, diskStorage: String, bridge: String, vlan: Int?, caPem: String?,
                    snippetsStorage: String? = nil, snippetsDirectory: String? = nil, tlsFingerprint: String? = nil) {
            self.tlsFingerprint = tlsFingerprint
            self.snippetsStorage = snippetsStorage
            self.snippetsDirectory = snippetsDirectory
            self.url = url
            self.tokenId = tokenId
            self.node = node
            self.importStorage = importStorage
            self.diskStorage = diskStorage
            self.bridge = bridge
            self.vlan = vlan
            self.caPem = caPem
        }
    }

    public init(id: String, organizationID: OrganizationID, name: String, settings: Settings, sealedSecret: String, createdAt: Date, createdBy: UserID?) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.settings = settings
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

public protocol BuildServerRepository: Sendable {
    /// False when the organization already has a server with that id.
    func insert(_ server: BuildServer) async throws -> Bool
    func find(id: String, organization: OrganizationID) async throws -> BuildServer?
    func list(organization: OrganizationID) async throws -> [BuildServer]
    func delete(id: String, organization: OrganizationID) async throws -> Bool
}
