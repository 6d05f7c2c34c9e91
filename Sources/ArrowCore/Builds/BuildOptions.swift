import Foundation

/// The `build_options` of a manual trigger, closed: an unknown key is an error naming it, so a typo is never
/// silently ignored. Composed with the image's metadata into the ``ImageConfig`` the builder receives.
public struct BuildOptions: Sendable, Equatable, Codable {
    public var software: [SoftwareItem]?
    public var ansibleFlags: [String: Bool]?
    public var customScripts: [String]?
    public var resourceAllocation: ResourceAllocation?
    public var hostname: String?
    /// Start from the first phase even when a retry could resume.
    public var fresh: Bool?
    /// Where the artifact goes once built (default: the organization's, else ``defaultDeploymentTarget``).
    public var deploymentTarget: DeploymentTarget?
    /// A failed deployment leaves what it made (the Proxmox VM, the uploaded volume) for inspection.
    public var keepOnFailure: Bool?
    /// Set by `POST /api/vm_images/{id}/deploy` only (not a build option people send): the task deploys its image as
    /// it is, from the deployment phase, instead of building from it.
    public var deployOnly: Bool?

    /// `qemu`: booted on the builder host and checked ("test before production"), the embedded default; `proxmox`:
    /// deployed to the task's build server; `download`: published at a stable public URL; `none`: the artifact is only
    /// stored.
    public enum DeploymentTarget: String, Sendable, Equatable, Codable, CaseIterable {
        case qemu, proxmox, download, none
    }

    public static let defaultDeploymentTarget = DeploymentTarget.qemu

    public init(
        software: [SoftwareItem]? = nil, ansibleFlags: [String: Bool]? = nil, customScripts: [String]? = nil,
        resourceAllocation: ResourceAllocation? = nil, hostname: String? = nil, fresh: Bool? = nil, deploymentTarget: DeploymentTarget? = nil,
        keepOnFailure: Bool? = nil
    ) {
        self.keepOnFailure = keepOnFailure
        self.software = software
        self.ansibleFlags = ansibleFlags
        self.customScripts = customScripts
        self.resourceAllocation = resourceAllocation
        self.hostname = hostname
        self.fresh = fresh
        self.deploymentTarget = deploymentTarget
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case software, ansibleFlags = "ansible_flags", customScripts = "custom_scripts"
        case resourceAllocation = "resource_allocation", hostname, fresh, deploymentTarget = "deployment_target"
        case keepOnFailure = "keep_on_failure", deployOnly = "deploy_only"
    }

    /// The keys `build_options` accepts, as the wire spells them.
    public static let keys: Set<String> = Set(CodingKeys.allCases.map(\.rawValue)).subtracting([CodingKeys.deployOnly.rawValue])
    /// The spec's Ansible flags.
    public static let ansibleFlagNames: Set<String> = ["install_vpn", "harden_ssh", "install_monitoring", "apply_branding"]

    /// Checks what decoding cannot: known flag names, sane resources, a valid host name.
    public func validate() throws {
        if let unknown = ansibleFlags?.keys.filter({ !Self.ansibleFlagNames.contains($0) }).sorted().first {
            throw ArrowError(.unprocessable, reason: "unknown_ansible_flag", "build_options.ansible_flags: unknown flag \(unknown)")
        }
        if let resources = resourceAllocation { try resources.validate() }
        if let hostname, !Self.isValidHostname(hostname) {
            throw ArrowError(.unprocessable, reason: "invalid_build_options", "build_options.hostname is not a valid host name")
        }
        for item in software ?? [] where item.name.isEmpty || item.name.count > 128 {
            throw ArrowError(.unprocessable, reason: "invalid_build_options", "build_options.software: every item needs a name of 1 to 128 characters")
        }
    }

    public static func isValidHostname(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty && name.count <= 253 && labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

/// One piece of software to install (the spec's software list item).
public struct SoftwareItem: Sendable, Equatable, Codable {
    public var name: String
    public var version: String?
    public var ansibleRole: String?

    public init(name: String, version: String? = nil, ansibleRole: String? = nil) {
        self.name = name
        self.version = version
        self.ansibleRole = ansibleRole
    }

    enum CodingKeys: String, CodingKey { case name, version, ansibleRole = "ansible_role" }
}

/// VM resources for the built image (ImageConfig's `resource_allocation`).
public struct ResourceAllocation: Sendable, Equatable, Codable {
    public var cores: Int?
    public var memoryMB: Int?
    public var diskGB: Int?

    public init(cores: Int? = nil, memoryMB: Int? = nil, diskGB: Int? = nil) {
        self.cores = cores
        self.memoryMB = memoryMB
        self.diskGB = diskGB
    }

    enum CodingKeys: String, CodingKey { case cores, memoryMB = "memory_mb", diskGB = "disk_gb" }

    func validate() throws {
        func check(_ value: Int?, _ name: String, _ range: ClosedRange<Int>) throws {
            if let value, !range.contains(value) {
                throw ArrowError(.unprocessable, reason: "invalid_build_options",
                                 "build_options.resource_allocation.\(name) must be \(range.lowerBound)…\(range.upperBound)")
            }
        }
        try check(cores, "cores", 1...256)
        try check(memoryMB, "memory_mb", 128...4_194_304)
        try check(diskGB, "disk_gb", 1...65_536)
    }
}
