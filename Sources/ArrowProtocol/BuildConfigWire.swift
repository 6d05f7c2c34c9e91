import Foundation

// The build configuration on the wire: an organization's ClientConfig (admins read and write it, builders holding a
// lease on one of the organization's tasks read it with its secrets) and a task's ImageConfig (builders only).

/// One piece of software to install: the spec's software list item.
public struct SoftwareSpec: Codable, Sendable, Equatable {
    public var name: String
    public var version: String?
    public var ansibleRole: String?

    public init(name: String, version: String? = nil, ansibleRole: String? = nil) {
        self.name = name
        self.version = version
        self.ansibleRole = ansibleRole
    }
}

/// The organization-level configuration every build of its images gets (the spec's ClientConfig, plus the users
/// and time zone the base configuration step needs). Fields marked *secret* are write-only for people: they are
/// stored sealed, never shown back, and sent only to a builder holding a lease on one of the organization's tasks.
public struct ClientConfigDocument: Codable, Sendable, Equatable {
    public var vpnConfig: VPNConfig?
    public var networkSettings: NetworkSettings?
    public var branding: Branding?
    public var defaultSoftware: [SoftwareSpec]?
    public var users: [ImageUser]?
    /// An IANA zone name such as `Europe/Berlin`.
    public var timezone: String?
    /// Only images whose boot test passed may become the organization's defaults or be deployed to Proxmox VE
    /// ("test before production").
    public var requireVerifiedImages: Bool?
    /// Where builds deploy when their build options do not say.
    public var deployment: DeploymentDefaults?

    public struct DeploymentDefaults: Codable, Sendable, Equatable {
        /// `qemu`, `proxmox` or `none`.
        public var target: String?
        /// With `proxmox`: the build server of a trigger that names none.
        public var buildServerId: String?

        public init(target: String? = nil, buildServerId: String? = nil) {
            self.target = target
            self.buildServerId = buildServerId
        }
    }

    public init(
        vpnConfig: VPNConfig? = nil, networkSettings: NetworkSettings? = nil, branding: Branding? = nil,
        defaultSoftware: [SoftwareSpec]? = nil, users: [ImageUser]? = nil, timezone: String? = nil, requireVerifiedImages: Bool? = nil,
        deployment: DeploymentDefaults? = nil
    ) {
        self.deployment = deployment
        self.vpnConfig = vpnConfig
        self.networkSettings = networkSettings
        self.branding = branding
        self.defaultSoftware = defaultSoftware
        self.users = users
        self.timezone = timezone
        self.requireVerifiedImages = requireVerifiedImages
    }

    public struct VPNConfig: Codable, Sendable, Equatable {
        /// The NetBird management URL the device enrolls with at first boot.
        public var managementUrl: String?
        /// *Secret.* The NetBird setup key; delivered at deployment, never baked into an image.
        public var setupKey: String?
        /// The NetBird package repository the `install_vpn` role installs the client from.
        public var packageRepository: String?
        /// Groups (by name) a deployed machine joins: resolved to ids for each one-off key.
        public var groups: [String]?
        /// The NetBird management REST API (e.g. `https://api.netbird.io`). With ``apiToken``, every deployment gets
        /// its own one-off setup key with a short expiry, instead of ``setupKey``.
        public var apiUrl: String?
        /// *Secret.* A personal access token (`nbp_…`) for the management API.
        public var apiToken: String?

        public init(
            managementUrl: String? = nil, setupKey: String? = nil, packageRepository: String? = nil, groups: [String]? = nil,
            apiUrl: String? = nil, apiToken: String? = nil
        ) {
            self.managementUrl = managementUrl
            self.setupKey = setupKey
            self.packageRepository = packageRepository
            self.groups = groups
            self.apiUrl = apiUrl
            self.apiToken = apiToken
        }
    }

    public struct NetworkSettings: Codable, Sendable, Equatable {
        /// Overrides the task's `vm_name` as the host name (build options' `hostname` overrides both).
        public var hostname: String?
        public var domain: String?
        /// The interface to configure; default: the image's first Ethernet interface.
        public var interface: String?
        /// `dhcp` (default) or `static`.
        public var mode: String?
        /// With `static`: the address in CIDR notation (`10.0.0.5/24`).
        public var address: String?
        public var gateway: String?
        public var dns: [String]?

        public init(
            hostname: String? = nil, domain: String? = nil, interface: String? = nil, mode: String? = nil, address: String? = nil,
            gateway: String? = nil, dns: [String]? = nil
        ) {
            self.hostname = hostname
            self.domain = domain
            self.interface = interface
            self.mode = mode
            self.address = address
            self.gateway = gateway
            self.dns = dns
        }
    }

    public struct Branding: Codable, Sendable, Equatable {
        public var organizationName: String?
        /// `/etc/motd`.
        public var motd: String?
        /// `/etc/issue`.
        public var issue: String?
        /// The SSH login banner.
        public var loginBanner: String?
        /// A PNG or SVG logo, base64, at most 256 KiB decoded.
        public var logoBase64: String?
        /// A wallpaper image, base64, at most 2 MiB decoded.
        public var wallpaperBase64: String?
        /// `#rrggbb`.
        public var primaryColor: String?

        public init(
            organizationName: String? = nil, motd: String? = nil, issue: String? = nil, loginBanner: String? = nil,
            logoBase64: String? = nil, wallpaperBase64: String? = nil, primaryColor: String? = nil
        ) {
            self.organizationName = organizationName
            self.motd = motd
            self.issue = issue
            self.loginBanner = loginBanner
            self.logoBase64 = logoBase64
            self.wallpaperBase64 = wallpaperBase64
            self.primaryColor = primaryColor
        }
    }

    public struct ImageUser: Codable, Sendable, Equatable {
        public var name: String
        /// *Secret.* A crypt(3) hash (`$6$…` or `$y$…`); none: the account has no password (key login only).
        public var passwordHash: String?
        public var sshAuthorizedKeys: [String]?
        public var sudo: Bool?
        public var shell: String?

        public init(name: String, passwordHash: String? = nil, sshAuthorizedKeys: [String]? = nil, sudo: Bool? = nil, shell: String? = nil) {
            self.name = name
            self.passwordHash = passwordHash
            self.sshAuthorizedKeys = sshAuthorizedKeys
            self.sudo = sudo
            self.shell = shell
        }
    }
}

/// `GET|PUT /api/organizations/{id}/client-config` for people: secrets left out, the paths of those set listed.
public struct ClientConfigView: Codable, Sendable, Equatable {
    public var organizationId: String
    /// 0 before the first write; send it back as `If-Match` to refuse a lost update.
    public var revision: Int
    public var updatedAt: Date?
    public var config: ClientConfigDocument
    /// The secret fields that hold a value, as paths (`vpn_config.setup_key`, `users[alice].password_hash`).
    public var secretsSet: [String]

    public init(organizationId: String, revision: Int, updatedAt: Date?, config: ClientConfigDocument, secretsSet: [String]) {
        self.organizationId = organizationId
        self.revision = revision
        self.updatedAt = updatedAt
        self.config = config
        self.secretsSet = secretsSet
    }
}

/// `GET /api/imaging/client-config/{org_id}` for a builder holding a lease: the whole document, secrets included.
public struct BuilderClientConfig: Codable, Sendable, Equatable {
    public var organizationId: String
    public var revision: Int
    public var config: ClientConfigDocument

    public init(organizationId: String, revision: Int, config: ClientConfigDocument) {
        self.organizationId = organizationId
        self.revision = revision
        self.config = config
    }
}

/// `GET /api/imaging/image-config/{task_id}`: what to build, composed from the base image's metadata, the
/// organization's default software and the task's build options.
public struct ImageConfigDocument: Codable, Sendable, Equatable {
    public var taskId: String
    public var attempt: Int
    public var organizationId: String
    public var imageId: String
    public var baseImage: BaseImage
    /// Default software, then the image's, then the build options' (a later entry of the same name wins).
    public var software: [SoftwareSpec]
    /// Every spec flag, on or off: the image's flags with the build options' on top.
    public var ansibleFlags: [String: Bool]
    public var customScripts: [String]
    public var resourceAllocation: ResourceAllocation?
    /// Build options' `hostname`, else the ClientConfig's network host name, else the task's `vm_name`, else one
    /// derived from the task id.
    public var hostname: String
    public var vmName: String?
    public var deviceType: String
    public var buildServerId: String?
    /// SHA-256 over the ClientConfig (secrets included) and this configuration: equal hashes, equal inputs
    /// (provenance, and whether a cached phase output may be reused).
    public var configurationHash: String
    /// Where the artifact goes after the build: `qemu` (booted on the builder host and checked, the default) or
    /// `none`. Not part of the configuration hash: it does not change the image.
    public var deploymentTarget: String?
    /// The artifact an earlier attempt of this task stored (its finalization completed), when this attempt resumes at
    /// deployment: it is deployed, not built again. Not part of the configuration hash.
    public var storedArtifact: StoredArtifact?
    /// With deployment target `proxmox`: the task's build server, its token secret included. Not part of the
    /// configuration hash.
    public var proxmox: ProxmoxTarget?
    /// A failed deployment leaves what it made for inspection (build options' `keep_on_failure`).
    public var keepOnFailure: Bool?

    public struct StoredArtifact: Codable, Sendable, Equatable {
        public var imageId: String
        public var size: Int64
        public var sha256: String
        public var downloadUrl: String
        public var downloadHeaders: [String: String]
        /// What the attempt that stored it reported (its verification, if any, is replaced by this attempt's).
        public var provenance: BuildProvenance

        public init(imageId: String, size: Int64, sha256: String, downloadUrl: String, downloadHeaders: [String: String], provenance: BuildProvenance) {
            self.imageId = imageId
            self.size = size
            self.sha256 = sha256
            self.downloadUrl = downloadUrl
            self.downloadHeaders = downloadHeaders
            self.provenance = provenance
        }
    }

    public init(
        taskId: String, attempt: Int, organizationId: String, imageId: String, baseImage: BaseImage, software: [SoftwareSpec],
        ansibleFlags: [String: Bool], customScripts: [String], resourceAllocation: ResourceAllocation?, hostname: String, vmName: String?,
        deviceType: String, buildServerId: String?, configurationHash: String, deploymentTarget: String? = nil
    ) {
        self.taskId = taskId
        self.attempt = attempt
        self.organizationId = organizationId
        self.imageId = imageId
        self.baseImage = baseImage
        self.software = software
        self.ansibleFlags = ansibleFlags
        self.customScripts = customScripts
        self.resourceAllocation = resourceAllocation
        self.hostname = hostname
        self.vmName = vmName
        self.deviceType = deviceType
        self.buildServerId = buildServerId
        self.configurationHash = configurationHash
        self.deploymentTarget = deploymentTarget
    }

    public struct BaseImage: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var fileName: String
        public var format: String
        public var size: Int64
        public var virtualSize: Int64
        public var sha256: String
        /// A presigned GET for the image's bytes (B2 or this server's local store); fetch the config again for a
        /// fresh one after `download_expires_at`.
        public var downloadUrl: String
        public var downloadHeaders: [String: String]
        public var downloadExpiresAt: Date

        public init(
            id: String, name: String, fileName: String, format: String, size: Int64, virtualSize: Int64, sha256: String, downloadUrl: String,
            downloadHeaders: [String: String], downloadExpiresAt: Date
        ) {
            self.id = id
            self.name = name
            self.fileName = fileName
            self.format = format
            self.size = size
            self.virtualSize = virtualSize
            self.sha256 = sha256
            self.downloadUrl = downloadUrl
            self.downloadHeaders = downloadHeaders
            self.downloadExpiresAt = downloadExpiresAt
        }
    }

    public struct ResourceAllocation: Codable, Sendable, Equatable {
        public var cores: Int?
        public var memoryMb: Int?
        public var diskGb: Int?

        public init(cores: Int? = nil, memoryMb: Int? = nil, diskGb: Int? = nil) {
            self.cores = cores
            self.memoryMb = memoryMb
            self.diskGb = diskGb
        }
    }
}

/// The lease a builder presents when it reads a task's configuration (`GET` requests have no body): the headers
/// `X-Arrow-Task`, `X-Arrow-Lease-Attempt` and `X-Arrow-Lease-Token`.
public enum LeaseHeaders {
    public static let task = "X-Arrow-Task"
    public static let attempt = "X-Arrow-Lease-Attempt"
    public static let token = "X-Arrow-Lease-Token"
}

/// The body an organization's webhook receives for a build event. The request carries `X-Arrow-Event`,
/// `X-Arrow-Delivery` (the message id, the same on every retry), `X-Arrow-Timestamp` (Unix seconds) and
/// `X-Arrow-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the webhook's secret>`.
public struct BuildEventPayload: Codable, Sendable, Equatable {
    public var event: String
    public var occurredAt: Date
    public var organizationId: String
    public var task: BuildTaskRecord

    public init(event: String, occurredAt: Date, organizationId: String, task: BuildTaskRecord) {
        self.event = event
        self.occurredAt = occurredAt
        self.organizationId = organizationId
        self.task = task
    }
}

/// `PUT /api/vm-build/tasks/{task_id}/artifact` (the builder holding the lease, the qcow2's bytes as the body):
/// the image record the artifact became.
public struct ArtifactReceipt: Codable, Sendable, Equatable {
    public var imageId: String
    public var sha256: String
    public var size: Int64

    public init(imageId: String, sha256: String, size: Int64) {
        self.imageId = imageId
        self.sha256 = sha256
        self.size = size
    }
}

/// Where a built image came from and what it contains, sent with the `succeeded` report and kept with the image
/// (`GET /api/vm_images/{id}/contents`).
public struct BuildProvenance: Codable, Sendable, Equatable {
    public struct Package: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var architecture: String

        public init(name: String, version: String, architecture: String) {
            self.name = name
            self.version = version
            self.architecture = architecture
        }
    }

    public struct Change: Codable, Sendable, Equatable {
        public var name: String
        public var from: String
        public var to: String

        public init(name: String, from: String, to: String) {
            self.name = name
            self.from = from
            self.to = to
        }
    }

    public var taskId: String
    public var baseImageId: String
    public var baseSha256: String
    public var configurationHash: String
    public var software: [SoftwareSpec]
    public var ansibleFlags: [String: Bool]
    /// Role name → version (the role's `meta/arrow-version`, or `unversioned`).
    public var roles: [String: String]
    public var builderVersion: String
    /// Phase → seconds, this attempt.
    public var phaseSeconds: [String: Double]
    public var packages: [Package]
    public var added: [Package]
    public var removed: [Package]
    public var changed: [Change]
    /// The boot test's result, when the build's deployment target booted the artifact.
    public var verification: ImageVerification?
    /// Where the artifact was deployed (a Proxmox VE VM: its node, id and addresses).
    public var deployment: DeploymentRecord?
    /// The artifact's size and what each step of the customization added to the image's file system.
    public var size: SizeReport?
    /// The build template (and its revision) the build ran for, stamped by the server when the run is settled.
    public var template: TemplateStamp?

    public init(
        taskId: String, baseImageId: String, baseSha256: String, configurationHash: String, software: [SoftwareSpec], ansibleFlags: [String: Bool],
        roles: [String: String], builderVersion: String, phaseSeconds: [String: Double], packages: [Package], added: [Package],
        removed: [Package], changed: [Change]
    ) {
        self.taskId = taskId
        self.baseImageId = baseImageId
        self.baseSha256 = baseSha256
        self.configurationHash = configurationHash
        self.software = software
        self.ansibleFlags = ansibleFlags
        self.roles = roles
        self.builderVersion = builderVersion
        self.phaseSeconds = phaseSeconds
        self.packages = packages
        self.added = added
        self.removed = removed
        self.changed = changed
    }
}

/// "Minimize software": what an artifact weighs and where it came from. Each item is the growth of the image's root
/// file system (used bytes) over one step of the customization: the base configuration, a system package (its own
/// installed size; what its dependencies added is the `dependencies` item), an Ansible role, the custom scripts.
public struct SizeReport: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        /// `base_configuration`, `package`, `dependencies`, `cache`, `role` or `scripts`.
        public var kind: String
        public var name: String
        /// Bytes added (negative when the step freed space).
        public var bytes: Int64

        public init(kind: String, name: String, bytes: Int64) {
            self.kind = kind
            self.name = name
            self.bytes = bytes
        }
    }

    /// The compressed qcow2 artifact.
    public var artifactBytes: Int64
    /// The base image's root file system, used bytes, before customization.
    public var baseUsedBytes: Int64?
    /// The same after customization (before the seal cleaned caches and logs).
    public var usedBytes: Int64?
    public var items: [Item]

    public init(artifactBytes: Int64, baseUsedBytes: Int64?, usedBytes: Int64?, items: [Item]) {
        self.artifactBytes = artifactBytes
        self.baseUsedBytes = baseUsedBytes
        self.usedBytes = usedBytes
        self.items = items
    }
}

/// Which template, at which revision, an artifact was built for.
public struct TemplateStamp: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var revision: Int
    public var runId: String
    /// `manual`, `schedule` or `base_image`.
    public var trigger: String

    public init(id: String, name: String, revision: Int, runId: String, trigger: String) {
        self.id = id
        self.name = name
        self.revision = revision
        self.runId = runId
        self.trigger = trigger
    }
}
