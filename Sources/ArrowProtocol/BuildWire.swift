import Foundation

// The wire types the server and its clients (the builder, the CLI) share. JSON keys are the snake_case of the
// property names, dates ISO 8601 in UTC (`APIJSON` on the server, `WireJSON` here).

/// What a builder says about itself when it claims: the queue hands it only tasks it can build.
public struct BuilderRegistration: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    /// `pvm`, `vm`.
    public var deviceTypes: [String]
    public var buildServers: [String]?
    /// The Ansible roles it can run (its roles directory), offered in the console's trigger form.
    public var roles: [String]?

    public init(name: String, version: String, deviceTypes: [String], buildServers: [String]? = nil, roles: [String]? = nil) {
        self.roles = roles
        self.name = name
        self.version = version
        self.deviceTypes = deviceTypes
        self.buildServers = buildServers
    }
}

/// `POST /api/vm-build/tasks/claim`.
public struct ClaimRequest: Codable, Sendable, Equatable {
    public var builder: BuilderRegistration
    /// Seconds to wait for a task when none is queued (long polling), 0…60.
    public var wait: Int?

    public init(builder: BuilderRegistration, wait: Int? = nil) {
        self.builder = builder
        self.wait = wait
    }
}

/// The lease a claim grants: every later call for the task presents `attempt` and `token`.
public struct LeaseGrant: Codable, Sendable, Equatable {
    public var attempt: Int
    public var token: String
    public var expiresIn: Int
    /// How often to heartbeat, seconds.
    public var heartbeatInterval: Int

    public init(attempt: Int, token: String, expiresIn: Int, heartbeatInterval: Int) {
        self.attempt = attempt
        self.token = token
        self.expiresIn = expiresIn
        self.heartbeatInterval = heartbeatInterval
    }
}

/// A claimed task (201); 204 means nothing to do.
public struct ClaimResponse: Codable, Sendable, Equatable {
    public var task: BuildTaskRecord
    public var lease: LeaseGrant
    public var builderId: String

    public init(task: BuildTaskRecord, lease: LeaseGrant, builderId: String) {
        self.task = task
        self.lease = lease
        self.builderId = builderId
    }
}

/// A build task as the API shows it.
public struct BuildTaskRecord: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var imageId: String
    public var deviceRequestId: String?
    public var deviceType: String
    public var buildServerId: String?
    public var client: String
    public var vmName: String?
    public var description: String?
    public var status: String
    public var phase: String?
    public var progress: Int
    public var attempt: Int
    public var completedPhases: [String]
    public var errorCode: String?
    public var errorMessage: String?
    public var artifactImageId: String?
    public var builderId: String?
    public var notifyOnComplete: Bool
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var leasedUntil: Date?
    /// With a single task (`GET /api/vm-build/tasks/{id}`): every attempt's phases and how long each took.
    public var phaseTimings: [PhaseTimingRecord]?
    /// With a single task: the proxy URL of each of its four logs, by file name.
    public var logs: [String: String]?

    public init(
        id: String, organizationId: String, imageId: String, deviceRequestId: String?, deviceType: String, buildServerId: String?,
        client: String, vmName: String?, description: String?, status: String, phase: String?, progress: Int, attempt: Int,
        completedPhases: [String], errorCode: String?, errorMessage: String?, artifactImageId: String?, builderId: String?,
        notifyOnComplete: Bool, createdAt: Date, startedAt: Date?, finishedAt: Date?, leasedUntil: Date?
    ) {
        self.id = id
        self.organizationId = organizationId
        self.imageId = imageId
        self.deviceRequestId = deviceRequestId
        self.deviceType = deviceType
        self.buildServerId = buildServerId
        self.client = client
        self.vmName = vmName
        self.description = description
        self.status = status
        self.phase = phase
        self.progress = progress
        self.attempt = attempt
        self.completedPhases = completedPhases
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.artifactImageId = artifactImageId
        self.builderId = builderId
        self.notifyOnComplete = notifyOnComplete
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.leasedUntil = leasedUntil
    }
}

/// `POST /api/vm-build/task-status`: what the builder holding a lease reports.
public struct TaskStatusReport: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable, CaseIterable {
        case heartbeat, phase, succeeded, failed
    }

    public var taskId: String
    public var attempt: Int
    public var leaseToken: String
    public var event: Event
    /// With `phase`: the phase now running.
    public var phase: String?
    public var progress: Int?
    /// With `succeeded`: the image the build produced; with `failed`, the artifact stored before deployment failed.
    public var artifactImageId: String?
    /// With `failed`: a ``BuildFailureCode`` wire name.
    public var errorCode: String?
    public var message: String?
    /// With `succeeded` (or `failed` with an artifact): where the artifact came from, what it contains, and its
    /// verification.
    public var provenance: BuildProvenance?

    public init(
        taskId: String, attempt: Int, leaseToken: String, event: Event, phase: String? = nil, progress: Int? = nil,
        artifactImageId: String? = nil, errorCode: String? = nil, message: String? = nil, provenance: BuildProvenance? = nil
    ) {
        self.provenance = provenance
        self.taskId = taskId
        self.attempt = attempt
        self.leaseToken = leaseToken
        self.event = event
        self.phase = phase
        self.progress = progress
        self.artifactImageId = artifactImageId
        self.errorCode = errorCode
        self.message = message
    }
}

/// The answer to a status report: `cancel` tells the builder to stop.
public struct TaskStatusReply: Codable, Sendable, Equatable {
    public var status: String
    public var cancel: Bool
    public var leaseExpiresIn: Int

    public init(status: String, cancel: Bool, leaseExpiresIn: Int) {
        self.status = status
        self.cancel = cancel
        self.leaseExpiresIn = leaseExpiresIn
    }
}

/// `POST /api/vm-imaging/trigger` and `POST /api/vm-build/trigger` answer with the tasks.
public struct TriggeredTask: Codable, Sendable, Equatable {
    public var id: String
    public var imageId: String
    public var status: String

    public init(id: String, imageId: String, status: String) {
        self.id = id
        self.imageId = imageId
        self.status = status
    }
}

public struct TriggerResponse: Codable, Sendable, Equatable {
    public var tasks: [TriggeredTask]
    /// False when the same request had been received before and nothing new was created.
    public var created: Bool

    public init(tasks: [TriggeredTask], created: Bool) {
        self.tasks = tasks
        self.created = created
    }
}

/// The JSON conventions of the API, for clients.
public enum WireJSON {
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// `POST /api/vm-build/task-logs`: a piece of one of the four logs, under the builder's lease. `sequence` numbers the
/// builder's chunks of that file within its attempt (from 0); sending a chunk again changes nothing.
public struct TaskLogUpload: Codable, Sendable, Equatable {
    public var taskId: String
    public var attempt: Int
    public var leaseToken: String
    /// `download`, `ansible`, `deploy` or `summary` (with or without `.log`).
    public var file: String
    public var sequence: Int
    public var content: String

    public init(taskId: String, attempt: Int, leaseToken: String, file: String, sequence: Int, content: String) {
        self.taskId = taskId
        self.attempt = attempt
        self.leaseToken = leaseToken
        self.file = file
        self.sequence = sequence
        self.content = content
    }
}

public struct TaskLogReceipt: Codable, Sendable, Equatable {
    /// False when this chunk had been stored before.
    public var stored: Bool

    public init(stored: Bool) { self.stored = stored }
}

/// One phase of one attempt (`BuildTaskRecord.phase_timings`).
public struct PhaseTimingRecord: Codable, Sendable, Equatable {
    public var attempt: Int
    public var phase: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// Until `finished_at`, or until now while the phase runs.
    public var seconds: Double

    public init(attempt: Int, phase: String, startedAt: Date, finishedAt: Date?, seconds: Double) {
        self.attempt = attempt
        self.phase = phase
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.seconds = seconds
    }
}

/// `GET /api/vm-build/failures`: recent failed builds grouped by what failed — the failure code, the phase, and for
/// Ansible the failing role and task — newest group first by count.
public struct BuildFailureReport: Codable, Sendable, Equatable {
    public struct Example: Codable, Sendable, Equatable {
        public var taskId: String
        public var imageId: String
        public var failedAt: Date
        public var message: String?
        /// The log that explains it and the line there (1-based), when one was found.
        public var logFile: String?
        public var line: Int?
        public var logUrl: String?
        public var consoleUrl: String

        public init(taskId: String, imageId: String, failedAt: Date, message: String?, logFile: String?, line: Int?, logUrl: String?, consoleUrl: String) {
            self.taskId = taskId
            self.imageId = imageId
            self.failedAt = failedAt
            self.message = message
            self.logFile = logFile
            self.line = line
            self.logUrl = logUrl
            self.consoleUrl = consoleUrl
        }
    }

    public struct Group: Codable, Sendable, Equatable {
        public var code: String
        public var phase: String?
        public var role: String?
        public var ansibleTask: String?
        public var count: Int
        public var firstSeen: Date
        public var lastSeen: Date
        /// The newest failures of the group (at most 10).
        public var examples: [Example]

        public init(code: String, phase: String?, role: String?, ansibleTask: String?, count: Int, firstSeen: Date, lastSeen: Date, examples: [Example]) {
            self.code = code
            self.phase = phase
            self.role = role
            self.ansibleTask = ansibleTask
            self.count = count
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
            self.examples = examples
        }
    }

    public var since: Date
    public var failures: Int
    public var groups: [Group]

    public init(since: Date, failures: Int, groups: [Group]) {
        self.since = since
        self.failures = failures
        self.groups = groups
    }
}
