import ArrowClient
import ArrowProtocol
import AsyncHTTPClient
import Foundation

/// One claimed task, start to end: the lease kept alive, the phases run from where the task resumes, the logs
/// streamed, and one final report (succeeded with the artifact, or failed with a typed code), unless the task was
/// canceled or its lease lost meanwhile. Every mount and loop device is released on every path.
struct BuildRun {
    let claim: ClaimResponse
    let api: any BuilderAPI
    let settings: BuilderSettings
    let runner: any CommandRunner
    /// The worker loop running it (see ``Workspace/slot``).
    var slot = 0
    let http: HTTPClient
    let echo: @Sendable (String) -> Void

    enum Outcome: Equatable { case succeeded(String), failed(String), canceled, leaseLost }

    var lease: APIClient.Lease { APIClient.Lease(taskID: claim.task.id, attempt: claim.lease.attempt, token: claim.lease.token) }

    func execute() async -> Outcome {
        let task = claim.task
        let log = TaskLog(sink: api, lease: lease) { [echo] file, line in echo("[\(file.rawValue)] \(line)") }
        let keeper = LeaseKeeper(api: api, lease: lease, interval: .seconds(max(1, claim.lease.heartbeatInterval)))
        let work = Task { try await phases(log: log, keeper: keeper) }
        await keeper.start { _ in work.cancel() }
        let result = await work.result
        await keeper.stop()
        let stopped = await keeper.stopped
        let outcome: Outcome
        switch (result, stopped) {
        case (_, .canceled?):
            await log.line(.summary, "canceled by an administrator; stopped")
            outcome = .canceled
        case (_, .leaseLost?):
            await log.line(.summary, "the lease on this task was lost (another attempt has it); stopped")
            outcome = .leaseLost
        case (.success(let artifact), nil):
            outcome = .succeeded(artifact)
        case (.failure(let error), nil):
            let failure = error as? BuildFailure ?? BuildFailure(.internalError, "\(error)", log: "summary")
            await log.line(.summary, "FAILED: \(failure)")
            await log.close()
            do {
                _ = try await keeper.report(TaskStatusReport(
                    taskId: task.id, attempt: lease.attempt, leaseToken: lease.token, event: .failed, artifactImageId: failure.artifactImageId,
                    errorCode: failure.code.rawValue, message: failure.description, provenance: failure.provenance))
            } catch {
                echo("could not report the failure: \(error)")
            }
            return .failed(failure.code.rawValue)
        }
        await log.close()
        return outcome
    }

    /// The phases from the one the task resumes at; returns the artifact's image id once reported succeeded.
    func phases(log: TaskLog, keeper: LeaseKeeper) async throws -> String {
        let task = claim.task
        let workspace = Workspace(root: settings.workDirectory + "/" + task.id, cache: settings.cacheDirectory, slot: slot)
        try workspace.prepare()
        var timings: [String: Double] = [:]
        let clock = ContinuousClock()
        func timed<T>(_ phase: String, _ body: () async throws -> T) async throws -> T {
            let start = clock.now
            defer { timings[phase] = (clock.now - start).seconds }
            return try await body()
        }
        let start = task.phase.flatMap(Phase.init(rawValue:)) ?? .preparation
        await log.line(.summary, "task \(task.id), attempt \(lease.attempt), on \(settings.name) \(settings.version); starting at \(start.rawValue)")

        // Preparation always runs its local part (configs, the cached base image); it reports only when it is the
        // task's phase, since the server refuses a phase that goes backwards.
        if start == .preparation { try await keeper.enter(Phase.preparation.rawValue, progress: 5) }
        let prepared = try await timed("preparation") { try await Preparation(run: self, log: log, workspace: workspace).run() }

        // Deployment's checkpoint is the artifact an earlier attempt stored: it is deployed, not built again.
        if start == .deployment, let stored = prepared.image.storedArtifact, let path = prepared.storedArtifactPath {
            await log.line(.summary, "resuming at deployment with artifact \(stored.imageId), stored by an earlier attempt (checkpoint)")
            var provenance = stored.provenance
            provenance.verification = nil
            return try await deploy(artifact: (stored.imageId, stored.size, stored.sha256), path: path, provenance: provenance, prepared: prepared,
                                    workspace: workspace, log: log, keeper: keeper, timings: timings)
        }

        // Customization: its checkpoint is the customized disk of this configuration in the task's work directory.
        let customization = Customization(run: self, log: log, workspace: workspace, prepared: prepared) { percent in
            try? await keeper.enter(Phase.customization.rawValue, progress: percent)
        }
        if start <= .customization {
            try await keeper.enter(Phase.customization.rawValue, progress: 20)
            try await timed("customization") { try await customization.run() }
        } else if workspace.hasCustomizedDisk(for: prepared.image.configurationHash) {
            await log.line(.ansible, "the customized disk of this configuration is in the builder's cache (checkpoint); customization skipped")
        } else {
            await log.line(.ansible, "customization completed on another builder; this one has no checkpoint of it, so customizes again")
            try await timed("customization") { try await customization.run() }
        }
        try await keeper.enter(Phase.finalization.rawValue, progress: 80)
        let finalization = Finalization(run: self, log: log, workspace: workspace, prepared: prepared) { percent in
            try? await keeper.enter(Phase.finalization.rawValue, progress: percent)
        }
        let (receipt, provenance) = try await timed("finalization") { try await finalization.run(timings: timings) }
        return try await deploy(artifact: (receipt.imageId, receipt.size, receipt.sha256), path: workspace.artifact, provenance: provenance,
                                prepared: prepared, workspace: workspace, log: log, keeper: keeper, timings: timings)
    }

    /// Phase 4 and the final report: a failure here still reports the stored artifact and its provenance.
    func deploy(
        artifact: (imageId: String, size: Int64, sha256: String), path: String, provenance: BuildProvenance, prepared: Prepared,
        workspace: Workspace, log: TaskLog, keeper: LeaseKeeper, timings: [String: Double]
    ) async throws -> String {
        var complete = provenance
        var timings = timings
        try await keeper.enter(Phase.deployment.rawValue, progress: 94)
        let started = ContinuousClock.now
        do {
            let outcome = try await Deployment(run: self, log: log, workspace: workspace, prepared: prepared).run(artifact: path, sha256: artifact.sha256, imageId: artifact.imageId)
            complete.verification = outcome.verification
            complete.deployment = outcome.deployment
            timings["deployment"] = (ContinuousClock.now - started).seconds
            complete.phaseSeconds = timings
            if let verification = complete.verification, verification.status == .failed {
                let failed = verification.checks.filter { !$0.passed }.map(\.name)
                throw BuildFailure(.verifyFailed, "artifact \(artifact.imageId) failed \(failed.count) of \(verification.checks.count) checks: "
                    + failed.joined(separator: ", "), log: "deploy")
            }
        } catch var failure as BuildFailure {
            timings["deployment"] = (ContinuousClock.now - started).seconds
            complete.phaseSeconds = timings
            failure.artifactImageId = artifact.imageId
            failure.provenance = complete
            throw failure
        }
        var report = TaskStatusReport(taskId: claim.task.id, attempt: lease.attempt, leaseToken: lease.token, event: .succeeded,
                                      artifactImageId: artifact.imageId)
        report.provenance = complete
        await log.line(.summary, "artifact \(artifact.imageId) (\(artifact.size) bytes, sha256 \(artifact.sha256)); "
            + "\(complete.added.count) packages added, \(complete.removed.count) removed, \(complete.changed.count) changed")
        await log.close()
        _ = try await keeper.report(report)
        workspace.clean()
        return artifact.imageId
    }

    enum Phase: String, Comparable {
        case preparation, customization, finalization, deployment

        static func < (lhs: Self, rhs: Self) -> Bool { order(lhs) < order(rhs) }
        static func order(_ phase: Self) -> Int { [.preparation, .customization, .finalization, .deployment].firstIndex(of: phase)! }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
