import ArrowCore
import ArrowProtocol
import Foundation

extension BuildTaskRecord {
    public init(_ task: BuildTask) {
        self.init(
            id: task.id.rawValue, organizationId: task.organizationID.rawValue, imageId: task.imageID.rawValue,
            deviceRequestId: task.deviceRequestID?.rawValue, deviceType: task.deviceType.rawValue, buildServerId: task.buildServerID,
            client: task.client, vmName: task.vmName, description: task.description, status: task.status.rawValue,
            phase: task.state.phase?.rawValue, progress: task.state.progress, attempt: task.state.attempt,
            completedPhases: task.state.completedPhases.sorted().map(\.rawValue), errorCode: task.state.errorCode?.rawValue,
            errorMessage: task.state.errorMessage, artifactImageId: task.state.artifactImageID?.rawValue,
            builderId: task.builderID?.rawValue, notifyOnComplete: task.notifyOnComplete, createdAt: task.createdAt,
            startedAt: task.startedAt, finishedAt: task.finishedAt, leasedUntil: task.leasedUntil)
    }
}

extension BuildTaskRecord {
    /// The record with its phase timings and log links (a single task's view).
    public init(_ task: BuildTask, phases: [PhaseTiming], now: Date = Date()) {
        self.init(task)
        phaseTimings = phases.map { timing in
            PhaseTimingRecord(attempt: timing.attempt, phase: timing.phase.rawValue, startedAt: timing.startedAt, finishedAt: timing.finishedAt,
                              seconds: max(0, (timing.finishedAt ?? now).timeIntervalSince(timing.startedAt)))
        }
        logs = Dictionary(uniqueKeysWithValues: StorageLayout.BuildLog.allCases.map { file in
            ("\(file.rawValue).log", "/api/build-logs/proxy?task=\(task.id.rawValue)&file=\(file.rawValue).log")
        })
    }
}
