import ArrowNetwork
import Foundation

/// How `arrow builder` runs: what it says about itself, where it works and caches, and where its tools are.
public struct BuilderSettings: Sendable {
    public var name: String
    public var version: String
    public var deviceTypes: [String]
    public var buildServers: [String]
    /// Per-task scratch space (raw disks, mount points, artifacts).
    public var workDirectory: String
    /// Base images by content, the package cache, checkpoints.
    public var cacheDirectory: String
    public var cacheLimitBytes: Int64
    /// The `arrow` binary (it carries the chroot helper).
    public var helper: String
    /// `ansible-playbook`, when roles are to run; nil: looked up on PATH.
    public var ansiblePlaybook: String?
    /// The roles Ansible runs (`imaging/roles` of the repository by default).
    public var rolesDirectory: String
    /// The roles in ``rolesDirectory`` (its subdirectories with a `tasks` directory), sorted; nil when it cannot be read.
    public var offeredRoles: [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: rolesDirectory) else { return nil }
        let roles = names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(rolesDirectory)/\(name)/tasks", isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
        return roles.isEmpty ? nil : Array(roles.prefix(200))
    }
    /// The host's role variables (YAML or JSON), e.g. `web_testing_downloads`; nil: the roles' defaults.
    public var roleVariables: String?
    /// How the deployment phase's boot test runs (accelerator, memory, timeouts).
    public var bootTest = BootTest.Settings()
    /// Where deployments may connect (`--build-server-networks`): an organization admin names a build server's URL.
    public var buildServerAddresses: OutboundAddressPolicy = .buildServers(networks: [])
    /// Seconds a claim waits for work before asking again.
    public var pollSeconds: Int

    public init(
        name: String, version: String, deviceTypes: [String] = ["vm", "pvm"], buildServers: [String] = [], workDirectory: String,
        cacheDirectory: String, cacheLimitBytes: Int64 = 20 << 30, helper: String, ansiblePlaybook: String? = nil, rolesDirectory: String,
        roleVariables: String? = nil, pollSeconds: Int = 30
    ) {
        self.name = name
        self.version = version
        self.deviceTypes = deviceTypes
        self.buildServers = buildServers
        self.workDirectory = workDirectory
        self.cacheDirectory = cacheDirectory
        self.cacheLimitBytes = cacheLimitBytes
        self.helper = helper
        self.ansiblePlaybook = ansiblePlaybook
        self.rolesDirectory = rolesDirectory
        self.roleVariables = roleVariables
        self.pollSeconds = pollSeconds
    }
}

/// The builder's version, recorded in every artifact's provenance.
public enum ArrowVersion {
    public static let current = "0.16.0"
}
