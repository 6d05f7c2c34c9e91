/// What booting an image and checking it inside showed (the spec's "Test Before Production"): kept with the image's
/// provenance and shown by `GET /api/vm_images/{id}/contents` and `arrow image show`.
public struct ImageVerification: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case passed, failed }

    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        /// What the check printed (its end, when long).
        public var output: String

        public init(name: String, passed: Bool, output: String) {
            self.name = name
            self.passed = passed
            self.output = output
        }
    }

    public var status: Status
    /// `kvm` or `tcg`.
    public var accelerator: String
    /// From starting the VM to SSH answering.
    public var bootSeconds: Double
    /// From starting the VM to the last check.
    public var totalSeconds: Double
    public var checks: [Check]
    /// ISO 8601.
    public var verifiedAt: String

    public init(status: Status, accelerator: String, bootSeconds: Double, totalSeconds: Double, checks: [Check], verifiedAt: String) {
        self.status = status
        self.accelerator = accelerator
        self.bootSeconds = bootSeconds
        self.totalSeconds = totalSeconds
        self.checks = checks
        self.verifiedAt = verifiedAt
    }
}

/// Where a build's artifact was deployed and how to reach it (the device's settings).
public struct DeploymentRecord: Codable, Sendable, Equatable {
    /// `proxmox` (a VM that stays) or `qemu` (booted on the builder and removed after its checks).
    public var target: String
    public var buildServerId: String?
    public var node: String?
    public var vmid: Int?
    public var addresses: [String]
    public var netbirdPeerId: String?
    public var netbirdIp: String?
    /// ISO 8601.
    public var deployedAt: String

    public init(target: String, buildServerId: String? = nil, node: String? = nil, vmid: Int? = nil, addresses: [String] = [],
                netbirdPeerId: String? = nil, netbirdIp: String? = nil, deployedAt: String) {
        self.target = target
        self.buildServerId = buildServerId
        self.node = node
        self.vmid = vmid
        self.addresses = addresses
        self.netbirdPeerId = netbirdPeerId
        self.netbirdIp = netbirdIp
        self.deployedAt = deployedAt
    }
}
