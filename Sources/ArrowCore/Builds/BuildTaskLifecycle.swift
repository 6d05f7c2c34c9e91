import Foundation

/// The four phases of a build, in order, each with its own log (spec "Imaging Process"; ARCHITECTURE §6).
public enum BuildPhase: String, Sendable, Codable, CaseIterable, Comparable {
    case preparation, customization, finalization, deployment

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.order < rhs.order }
    var order: Int { Self.allCases.firstIndex(of: self)! }
}

/// Why a build failed: a stable, machine-readable code the API, the console and the metrics show.
/// The spec's "Common Failures" and the ones the queue itself decides.
public enum BuildFailureCode: String, Sendable, Codable, CaseIterable {
    case downloadTimeout = "download_timeout"
    case checksumMismatch = "checksum_mismatch"
    case ansibleFailed = "ansible_failed"
    case diskSpace = "disk_space"
    case apiTimeout = "api_timeout"
    case imageUnavailable = "image_unavailable"
    case mountFailed = "mount_failed"
    case packageInstallFailed = "package_install_failed"
    case scriptFailed = "script_failed"
    case sealFailed = "seal_failed"
    case uploadFailed = "upload_failed"
    case deployFailed = "deploy_failed"
    case deployUploadFailed = "deploy_upload_failed"
    case vmCreateFailed = "vm_create_failed"
    /// The artifact booted for its checks did not answer SSH in time.
    case bootTimeout = "boot_timeout"
    /// The artifact booted but failed a check (the checks' results are kept with the image).
    case verifyFailed = "verify_failed"
    /// The NetBird management API refused or failed what enrollment needed (groups, a setup key).
    case vpnEnrollFailed = "vpn_enroll_failed"
    case configInvalid = "config_invalid"
    /// The builder stopped heartbeating and the task ran out of attempts (osbuild-composer's error 27).
    case missingHeartbeat = "missing_heartbeat"
    case internalError = "internal_error"
}

/// A build task's state and every move it may make: `queued → running(phase) → succeeded | failed | canceled`,
/// a lost lease back to `queued` with a new attempt, and an admin's retry of a finished task. A pure value: the
/// database applies a transition with a compare-and-set on (id, attempt, lease token), so a builder from an older
/// attempt can never overwrite a newer one.
public struct BuildTaskState: Sendable, Equatable {
    public var status: BuildTaskStatus
    public var phase: BuildPhase?
    /// 0 until the first claim; each claim starts a new attempt.
    public var attempt: Int
    public var leaseToken: String?
    /// 0…100 within the whole build.
    public var progress: Int
    /// Phases that finished in an earlier or this attempt: a retry resumes after the last of them.
    public var completedPhases: Set<BuildPhase>
    /// Leases that expired without the builder reporting (a dead or cut-off builder).
    public var leaseLosses: Int
    public var errorCode: BuildFailureCode?
    public var errorMessage: String?
    public var artifactImageID: ImageID?

    public init(
        status: BuildTaskStatus = .queued, phase: BuildPhase? = nil, attempt: Int = 0, leaseToken: String? = nil, progress: Int = 0,
        completedPhases: Set<BuildPhase> = [], leaseLosses: Int = 0, errorCode: BuildFailureCode? = nil, errorMessage: String? = nil,
        artifactImageID: ImageID? = nil
    ) {
        self.status = status
        self.phase = phase
        self.attempt = attempt
        self.leaseToken = leaseToken
        self.progress = progress
        self.completedPhases = completedPhases
        self.leaseLosses = leaseLosses
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.artifactImageID = artifactImageID
    }

    /// The first phase a new attempt runs: after the last completed one.
    public var resumePhase: BuildPhase {
        BuildPhase.allCases.first { !completedPhases.contains($0) } ?? .deployment
    }

    // MARK: Transitions

    /// A builder takes the queued task: a new attempt with its own lease token.
    public mutating func claim(token: String) throws(BuildTransitionError) {
        guard status == .queued else { throw .notQueued(status) }
        status = .running
        attempt += 1
        leaseToken = token
        phase = resumePhase
        errorCode = nil
        errorMessage = nil
    }

    /// The builder holding `lease` reports it is in `phase` at `progress`; moving past a phase completes it.
    public mutating func advance(to next: BuildPhase, progress: Int?, lease: Lease) throws(BuildTransitionError) {
        try requireLease(lease)
        if let current = phase, next < current { throw .phaseBackwards(from: current, to: next) }
        if let current = phase, next > current {
            for earlier in BuildPhase.allCases where earlier >= current && earlier < next { completedPhases.insert(earlier) }
        }
        phase = next
        if let progress { self.progress = min(100, max(self.progress, progress)) }
    }

    /// A heartbeat: only checks the lease (the database extends it). A canceled task answers `cancel` instead.
    public func heartbeat(lease: Lease) throws(BuildTransitionError) -> HeartbeatAnswer {
        if status == .canceled, lease.matches(self) { return .cancel }
        try requireLease(lease)
        return .continue
    }

    public mutating func succeed(artifact: ImageID?, lease: Lease) throws(BuildTransitionError) {
        try requireLease(lease)
        if let phase { completedPhases.insert(phase) }
        status = .succeeded
        progress = 100
        artifactImageID = artifact
        leaseToken = nil
    }

    public mutating func fail(_ code: BuildFailureCode, message: String, lease: Lease) throws(BuildTransitionError) {
        try requireLease(lease)
        status = .failed
        errorCode = code
        errorMessage = message
        leaseToken = nil
    }

    /// The lease ran out: back to the queue for a new attempt, or failed for good after `maxLeaseLosses`.
    public mutating func leaseExpired(maxLeaseLosses: Int) throws(BuildTransitionError) {
        guard status == .running else { throw .notRunning(status) }
        leaseToken = nil
        if leaseLosses >= maxLeaseLosses {
            status = .failed
            errorCode = .missingHeartbeat
            errorMessage = "The builder stopped reporting; the task was retried \(leaseLosses) time(s)"
        } else {
            leaseLosses += 1
            status = .queued
        }
    }

    /// An admin cancels: a queued task ends now; a running one ends too, and its builder learns it at its next
    /// heartbeat (the lease token stays so that heartbeat can be answered).
    public mutating func cancel() throws(BuildTransitionError) {
        guard status.isOpen else { throw .finished(status) }
        status = .canceled
    }

    /// An admin retries a finished task that did not succeed: queued again for a new attempt, resuming after the
    /// last completed phase, or from the start with `fresh`.
    public mutating func retry(fresh: Bool) throws(BuildTransitionError) {
        guard status == .failed || status == .canceled else { throw .notRetryable(status) }
        status = .queued
        leaseToken = nil
        leaseLosses = 0
        errorCode = nil
        errorMessage = nil
        if fresh { completedPhases = []; progress = 0 }
        phase = nil
    }

    private func requireLease(_ lease: Lease) throws(BuildTransitionError) {
        guard lease.matches(self) else { throw .staleLease }
        guard status == .running else { throw status == .canceled ? .canceled : .notRunning(status) }
    }

    /// What a builder presents with every call after its claim.
    public struct Lease: Sendable, Equatable {
        public var attempt: Int
        public var token: String

        public init(attempt: Int, token: String) {
            self.attempt = attempt
            self.token = token
        }

        func matches(_ state: BuildTaskState) -> Bool { state.attempt == attempt && state.leaseToken == token }
    }

    public enum HeartbeatAnswer: Sendable, Equatable { case `continue`, cancel }
}

/// A move the task's state does not allow.
public enum BuildTransitionError: Error, Equatable, Sendable {
    case notQueued(BuildTaskStatus)
    case notRunning(BuildTaskStatus)
    case finished(BuildTaskStatus)
    case notRetryable(BuildTaskStatus)
    case phaseBackwards(from: BuildPhase, to: BuildPhase)
    /// The caller's attempt or lease token is not the task's current one.
    case staleLease
    case canceled

    /// The API's error for it: 409 with a stable code, or 422 for a report that makes no sense.
    public var arrowError: ArrowError {
        switch self {
        case .staleLease:
            ArrowError(.conflict, reason: "stale_lease", "This lease is not the task's current one; another attempt owns the task")
        case .canceled:
            ArrowError(.conflict, reason: "task_canceled", "The task was canceled")
        case .notQueued(let status), .notRunning(let status), .finished(let status):
            ArrowError(.conflict, reason: "task_\(status.rawValue)", "The task is \(status.rawValue)")
        case .notRetryable(let status):
            ArrowError(.conflict, reason: "not_retryable", "Only a failed or canceled task can be retried; this one is \(status.rawValue)")
        case .phaseBackwards(let from, let to):
            ArrowError(.unprocessable, reason: "phase_backwards", "A task in \(from.rawValue) cannot go back to \(to.rawValue)")
        }
    }
}
