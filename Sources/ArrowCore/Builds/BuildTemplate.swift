import Foundation

public enum BuildTemplateTag {}
public typealias BuildTemplateID = Identifier<BuildTemplateTag>
public enum TemplateRunTag {}
public typealias TemplateRunID = Identifier<TemplateRunTag>

/// A saved build definition of an organization (EC2 Image Builder's recipe + pipeline): what to build from, with what,
/// where it goes, when to rebuild, and what a new artifact must pass before it replaces the previous one. Every
/// change bumps ``revision``; each run records the revision it built.
public struct BuildTemplate: Sendable, Equatable {
    /// The build itself: what a manual trigger would send.
    public struct Definition: Sendable, Equatable, Codable {
        public var baseImageId: String
        /// Build from the newest active version of the base image's line, and rebuild when a new one arrives.
        public var followLatest: Bool
        public var buildType: String
        public var vmName: String?
        public var options: BuildOptions
        public var buildServerId: String?

        public init(baseImageId: String, followLatest: Bool = false, buildType: String = "vm", vmName: String? = nil,
                    options: BuildOptions = BuildOptions(), buildServerId: String? = nil) {
            self.baseImageId = baseImageId
            self.followLatest = followLatest
            self.buildType = buildType
            self.vmName = vmName
            self.options = options
            self.buildServerId = buildServerId
        }
    }

    public var id: BuildTemplateID
    public var organizationID: OrganizationID
    public var name: String
    public var revision: Int
    public var definition: Definition
    /// Cron expression, or nil for no schedule.
    public var schedule: String?
    public var timeZone: String
    /// The next slot the schedule fires at (nil without a schedule).
    public var nextRunAt: Date?
    /// A new artifact replaces the previous one only after its boot test passed.
    public var requireVerification: Bool
    /// A promoted artifact takes the previous one's place among the organization's default images.
    public var promoteToDefault: Bool
    /// The template's current version: the last promoted artifact.
    public var latestArtifactID: ImageID?
    /// The base version the last base-triggered (or first) run was for; a newer active version fires a rebuild.
    public var lastBaseImageID: ImageID?
    public var createdBy: UserID?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: BuildTemplateID = .generate(), organizationID: OrganizationID, name: String, revision: Int = 1, definition: Definition,
        schedule: String? = nil, timeZone: String = "UTC", nextRunAt: Date? = nil, requireVerification: Bool = false,
        promoteToDefault: Bool = false, latestArtifactID: ImageID? = nil, lastBaseImageID: ImageID? = nil, createdBy: UserID?,
        createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.revision = revision
        self.definition = definition
        self.schedule = schedule
        self.timeZone = timeZone
        self.nextRunAt = nextRunAt
        self.requireVerification = requireVerification
        self.promoteToDefault = promoteToDefault
        self.latestArtifactID = latestArtifactID
        self.lastBaseImageID = lastBaseImageID
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// One firing of a template: which trigger, which revision, the task it queued, and what became of the artifact.
public struct TemplateRun: Sendable, Equatable {
    public enum Trigger: String, Sendable, Codable, CaseIterable {
        case manual, schedule, baseImage = "base_image"
    }

    /// `building` until its task ends; then `promoted` (the new version), `unchanged` (same packages as the current
    /// version: nothing promoted), `not_promoted` (verification required and not passed; the old version stays),
    /// or `failed` (the build failed, or could not be queued).
    public enum Status: String, Sendable, Codable, CaseIterable {
        case building, promoted, unchanged, notPromoted = "not_promoted", failed
    }

    public var id: TemplateRunID
    public var templateID: BuildTemplateID
    public var organizationID: OrganizationID
    public var revision: Int
    public var trigger: Trigger
    /// Unique per template: `schedule:<slot>`, `base:<image id>`, `manual:<run id>`; a second node firing the same
    /// slot or base version finds it taken.
    public var triggerKey: String
    public var taskID: BuildTaskID?
    public var status: Status
    public var message: String?
    public var artifactImageID: ImageID?
    public var previousArtifactID: ImageID?
    /// Package changes against the previous version (JSON of ``ContentsDiff``).
    public var diff: ContentsDiff?
    public var createdAt: Date
    public var finishedAt: Date?

    public init(
        id: TemplateRunID = .generate(), templateID: BuildTemplateID, organizationID: OrganizationID, revision: Int, trigger: Trigger,
        triggerKey: String, taskID: BuildTaskID?, status: Status = .building, message: String? = nil, artifactImageID: ImageID? = nil,
        previousArtifactID: ImageID? = nil, diff: ContentsDiff? = nil, createdAt: Date, finishedAt: Date? = nil
    ) {
        self.id = id
        self.templateID = templateID
        self.organizationID = organizationID
        self.revision = revision
        self.trigger = trigger
        self.triggerKey = triggerKey
        self.taskID = taskID
        self.status = status
        self.message = message
        self.artifactImageID = artifactImageID
        self.previousArtifactID = previousArtifactID
        self.diff = diff
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// What changed in an image's packages between two versions.
public struct ContentsDiff: Sendable, Equatable, Codable {
    public struct Change: Sendable, Equatable, Codable {
        public var name: String
        public var from: String
        public var to: String
        public init(name: String, from: String, to: String) {
            self.name = name
            self.from = from
            self.to = to
        }
    }

    public var added: [String]
    public var removed: [String]
    public var changed: [Change]

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    public init(added: [String] = [], removed: [String] = [], changed: [Change] = []) {
        self.added = added
        self.removed = removed
        self.changed = changed
    }

    /// From package name → version maps (architecture folded into the name when it differs).
    public init(from old: [String: String], to new: [String: String]) {
        added = new.keys.filter { old[$0] == nil }.sorted().map { "\($0) \(new[$0]!)" }
        removed = old.keys.filter { new[$0] == nil }.sorted().map { "\($0) \(old[$0]!)" }
        changed = new.keys.filter { old[$0] != nil && old[$0] != new[$0] }.sorted().map { Change(name: $0, from: old[$0]!, to: new[$0]!) }
    }
}

public protocol BuildTemplateRepository: Sendable {
    /// False when the organization already has a template of that name.
    func insert(_ template: BuildTemplate) async throws -> Bool
    /// Replaces the stored template when its revision is `expectedRevision`; false otherwise.
    func update(_ template: BuildTemplate, expectedRevision: Int) async throws -> Bool
    func find(id: BuildTemplateID, organization: OrganizationID?) async throws -> BuildTemplate?
    func list(organization: OrganizationID) async throws -> [BuildTemplate]
    func delete(id: BuildTemplateID, organization: OrganizationID) async throws -> Bool
    /// Scheduled templates whose next slot is at or before `at`, of every organization.
    func due(at: Date, limit: Int) async throws -> [BuildTemplate]
    /// Templates that follow their base image's latest version.
    func followingBase(limit: Int) async throws -> [BuildTemplate]
    /// Moves the next slot forward, only from the value the caller read (so two nodes agree).
    func setNextRun(id: BuildTemplateID, from: Date?, to: Date?) async throws
    func setLastBase(id: BuildTemplateID, image: ImageID) async throws
    func setLatestArtifact(id: BuildTemplateID, image: ImageID) async throws
    /// The newest active image whose previous version is `image`, if any.
    func activeSuccessor(of image: ImageID) async throws -> ImageID?

    /// False when the template already has a run with that trigger key.
    func insertRun(_ run: TemplateRun) async throws -> Bool
    func runs(template: BuildTemplateID, limit: Int) async throws -> [TemplateRun]
    /// Runs still `building`, oldest first, of every organization.
    func openRuns(limit: Int) async throws -> [TemplateRun]
    /// Ends a `building` run; false when it had already ended (another node got there first).
    func finishRun(_ run: TemplateRun) async throws -> Bool
}
