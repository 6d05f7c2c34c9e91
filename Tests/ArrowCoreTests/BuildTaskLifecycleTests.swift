import ArrowCore
import Testing

/// Every move of ``BuildTaskState``, allowed and refused.
@Suite struct BuildTaskLifecycleTests {
    typealias Lease = BuildTaskState.Lease

    func claimed(_ token: String = "t1") throws -> BuildTaskState {
        var state = BuildTaskState()
        try state.claim(token: token)
        return state
    }

    @Test func aClaimStartsANewAttemptInTheFirstPhase() throws {
        let state = try claimed()
        #expect(state.status == .running)
        #expect(state.attempt == 1)
        #expect(state.leaseToken == "t1")
        #expect(state.phase == .preparation)
        var again = state
        #expect(throws: BuildTransitionError.notQueued(.running)) { try again.claim(token: "t2") }
    }

    @Test func phasesMoveForwardAndCompleteWhatTheyPass() throws {
        var state = try claimed()
        let lease = Lease(attempt: 1, token: "t1")
        try state.advance(to: .customization, progress: 30, lease: lease)
        #expect(state.completedPhases == [.preparation])
        try state.advance(to: .deployment, progress: 20, lease: lease)
        #expect(state.completedPhases == [.preparation, .customization, .finalization])
        #expect(state.progress == 30, "progress never goes back")
        #expect(throws: BuildTransitionError.phaseBackwards(from: .deployment, to: .customization)) {
            try state.advance(to: .customization, progress: nil, lease: lease)
        }
        try state.advance(to: .deployment, progress: 120, lease: lease)
        #expect(state.progress == 100)
    }

    @Test func onlyTheCurrentLeaseMayWrite() throws {
        var state = try claimed()
        for stale in [Lease(attempt: 1, token: "other"), Lease(attempt: 2, token: "t1"), Lease(attempt: 0, token: "t1")] {
            #expect(throws: BuildTransitionError.staleLease) { try state.advance(to: .customization, progress: 1, lease: stale) }
            #expect(throws: BuildTransitionError.staleLease) { try state.succeed(artifact: nil, lease: stale) }
            #expect(throws: BuildTransitionError.staleLease) { try state.fail(.diskSpace, message: "x", lease: stale) }
            #expect(throws: BuildTransitionError.staleLease) { _ = try state.heartbeat(lease: stale) }
        }
        #expect(try state.heartbeat(lease: Lease(attempt: 1, token: "t1")) == .continue)
    }

    @Test func successEndsTheLeaseAndCompletesThePhase() throws {
        var state = try claimed()
        let lease = Lease(attempt: 1, token: "t1")
        try state.advance(to: .finalization, progress: 80, lease: lease)
        try state.succeed(artifact: ImageID("art"), lease: lease)
        #expect(state.status == .succeeded)
        #expect(state.progress == 100)
        #expect(state.leaseToken == nil)
        #expect(state.artifactImageID == ImageID("art"))
        #expect(state.completedPhases.contains(.finalization))
        #expect(throws: BuildTransitionError.staleLease) { try state.fail(.diskSpace, message: "late", lease: lease) }
        #expect(throws: BuildTransitionError.finished(.succeeded)) { try state.cancel() }
        #expect(throws: BuildTransitionError.notRetryable(.succeeded)) { try state.retry(fresh: false) }
    }

    @Test func failureKeepsItsCodeAndARetryResumesAfterTheLastCompletedPhase() throws {
        var state = try claimed()
        let lease = Lease(attempt: 1, token: "t1")
        try state.advance(to: .customization, progress: 40, lease: lease)
        try state.fail(.ansibleFailed, message: "role x failed", lease: lease)
        #expect(state.status == .failed)
        #expect(state.errorCode == .ansibleFailed)
        try state.retry(fresh: false)
        #expect(state.status == .queued)
        #expect(state.errorCode == nil)
        try state.claim(token: "t2")
        #expect(state.attempt == 2)
        #expect(state.phase == .customization, "resumes after preparation")
        #expect(throws: BuildTransitionError.staleLease) { _ = try state.heartbeat(lease: lease) }
    }

    @Test func aFreshRetryStartsOver() throws {
        var state = try claimed()
        let lease = Lease(attempt: 1, token: "t1")
        try state.advance(to: .finalization, progress: 70, lease: lease)
        try state.fail(.diskSpace, message: "full", lease: lease)
        try state.retry(fresh: true)
        #expect(state.completedPhases.isEmpty)
        #expect(state.progress == 0)
        try state.claim(token: "t2")
        #expect(state.phase == .preparation)
    }

    @Test func lostLeasesRequeueUntilTheLimitThenFailWithMissingHeartbeat() throws {
        var state = try claimed()
        try state.leaseExpired(maxLeaseLosses: 2)
        #expect(state.status == .queued)
        #expect(state.leaseLosses == 1)
        #expect(state.leaseToken == nil)
        try state.claim(token: "t2")
        try state.leaseExpired(maxLeaseLosses: 2)
        try state.claim(token: "t3")
        #expect(state.attempt == 3)
        try state.leaseExpired(maxLeaseLosses: 2)
        #expect(state.status == .failed)
        #expect(state.errorCode == .missingHeartbeat)
        #expect(throws: BuildTransitionError.notRunning(.failed)) { try state.leaseExpired(maxLeaseLosses: 2) }
        try state.retry(fresh: false)
        #expect(state.leaseLosses == 0, "a retry gets the full allowance again")
    }

    @Test func cancelEndsAQueuedTaskAndTellsARunningBuilderAtItsHeartbeat() throws {
        var queued = BuildTaskState()
        try queued.cancel()
        #expect(queued.status == .canceled)
        #expect(throws: BuildTransitionError.notQueued(.canceled)) { try queued.claim(token: "t") }

        var running = try claimed()
        let lease = Lease(attempt: 1, token: "t1")
        try running.cancel()
        #expect(running.status == .canceled)
        #expect(try running.heartbeat(lease: lease) == .cancel)
        #expect(throws: BuildTransitionError.staleLease) { _ = try running.heartbeat(lease: Lease(attempt: 1, token: "x")) }
        #expect(throws: BuildTransitionError.canceled) { try running.succeed(artifact: nil, lease: lease) }
        #expect(throws: BuildTransitionError.canceled) { try running.advance(to: .customization, progress: nil, lease: lease) }
        #expect(throws: BuildTransitionError.finished(.canceled)) { try running.cancel() }
        try running.retry(fresh: false)
        #expect(running.status == .queued)
    }

    @Test func transitionErrorsMapToStableCodes() {
        #expect(BuildTransitionError.staleLease.arrowError.publicCode == "stale_lease")
        #expect(BuildTransitionError.canceled.arrowError.publicCode == "task_canceled")
        #expect(BuildTransitionError.notRetryable(.running).arrowError.publicCode == "not_retryable")
        #expect(BuildTransitionError.phaseBackwards(from: .deployment, to: .preparation).arrowError.code == .unprocessable)
    }
}
