import Foundation

public enum DeviceRequestTag {}
/// The ARROW platform's device request id (the trigger's `request_id`), kept as the platform spells it.
public typealias DeviceRequestID = Identifier<DeviceRequestTag>

/// A device request's state as the imaging workflow sees it: received (`pending`), being built (`imaging`), or
/// finished one way or the other.
public enum DeviceRequestStatus: String, Sendable, Codable, CaseIterable {
    case pending, imaging, ready, failed, canceled

    /// Pending or imaging: the request still needs its images.
    public var isOpen: Bool { self == .pending || self == .imaging }
}

/// A request from the ARROW platform for a device (`pvm` or `vm`) built from one or more images.
public struct DeviceRequest: Sendable, Equatable {
    public var id: DeviceRequestID
    public var organizationID: OrganizationID
    /// `pvm` or `vm`: the spec's device type, which is also the build's platform.
    public var deviceType: String
    public var client: String
    public var status: DeviceRequestStatus
    /// The images to build, in the order the request names them.
    public var imageIDs: [ImageID]
    /// Where the device ended up, filled in by deployment.
    public var settings: DeviceSettings?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: DeviceRequestID, organizationID: OrganizationID, deviceType: String, client: String,
        status: DeviceRequestStatus = .pending, imageIDs: [ImageID], createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.deviceType = deviceType
        self.client = client
        self.status = status
        self.imageIDs = imageIDs
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// Device requests and the images each names, scoped by organization in the query.
public protocol DeviceRequestRepository: Sendable {
    /// Inserts the request and its image list. Use ``DataStore/open(_:)``, which first checks the images.
    func create(_ request: DeviceRequest) async throws
    func find(id: DeviceRequestID, scope: AccessScope) async throws -> DeviceRequest?
    /// Newest first.
    func list(scope: AccessScope, status: DeviceRequestStatus?, limit: Int) async throws -> [DeviceRequest]
    /// Returns false when the request is not within `scope`.
    func setStatus(id: DeviceRequestID, _ status: DeviceRequestStatus, at: Date, scope: AccessScope) async throws -> Bool
    /// Moves the request from `from` to `to` in one conditional statement; false when it was not in `from`.
    func advance(id: DeviceRequestID, from: DeviceRequestStatus, to: DeviceRequestStatus, at: Date) async throws -> Bool
    /// The deployed device's settings.
    func setSettings(id: DeviceRequestID, _ settings: DeviceSettings, at: Date) async throws
}

/// The deployed device: the seed's `device_settings`, written when a task of the request deploys its artifact.
public struct DeviceSettings: Sendable, Equatable, Codable {
    public var vmID: Int?
    public var node: String?
    /// The first of ``addresses``.
    public var address: String?
    public var vpnPeerID: String?
    public var addresses: [String]?
    public var vpnAddress: String?
    public var buildServerID: String?
    /// The artifact deployed and the task that built it.
    public var imageID: String?
    public var taskID: String?
    /// `passed` or `failed`, when the artifact was booted and checked.
    public var verification: String?

    public init(vmID: Int? = nil, node: String? = nil, address: String? = nil, vpnPeerID: String? = nil, addresses: [String]? = nil,
                vpnAddress: String? = nil, buildServerID: String? = nil, imageID: String? = nil, taskID: String? = nil, verification: String? = nil) {
        self.vmID = vmID
        self.node = node
        self.address = address
        self.vpnPeerID = vpnPeerID
        self.addresses = addresses
        self.vpnAddress = vpnAddress
        self.buildServerID = buildServerID
        self.imageID = imageID
        self.taskID = taskID
        self.verification = verification
    }

    enum CodingKeys: String, CodingKey {
        case vmID = "vm_id", node, address, vpnPeerID = "vpn_peer_id", addresses, vpnAddress = "vpn_address", buildServerID = "build_server_id"
        case imageID = "image_id", taskID = "task_id", verification
    }
}
