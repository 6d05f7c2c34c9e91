import ArrowClient
import ArrowProtocol
import AsyncHTTPClient
import Foundation
import Synchronization

/// `arrow builder`: registers as it claims, long-polls for work, runs each task it gets, and stops claiming when
/// asked to drain (SIGTERM): the build in progress runs to its end and reports, then the loop returns.
public struct BuildWorker: Sendable {
    let api: any BuilderAPI
    let settings: BuilderSettings
    let runner: any CommandRunner
    let http: HTTPClient
    let echo: @Sendable (String) -> Void

    public init(api: any BuilderAPI, settings: BuilderSettings, runner: any CommandRunner = SubprocessRunner(), http: HTTPClient,
                echo: @escaping @Sendable (String) -> Void) {
        self.api = api
        self.settings = settings
        self.runner = runner
        self.http = http
        self.echo = echo
    }

    /// Takes the work directory for this process (one builder process per directory) and clears what a builder
    /// killed mid-build left in it. Call once, before the workers start; keep the lock for the process's life.
    public func takeWorkDirectory() async throws -> AnyObject {
        let lock = try WorkDirectoryLock(settings.workDirectory)
        for line in await Leftovers.clear(under: settings.workDirectory, runner: runner) {
            echo("left over from a builder that stopped mid-build: \(line)")
        }
        return lock
    }

    /// Set by a signal handler: no new claims after the current build.
    public final class Drain: Sendable {
        private let state = Mutex((requested: false, building: false))
        public init() {}
        /// Asks the worker to stop; true when it is between builds (nothing to finish: the caller may cancel it).
        @discardableResult
        public func request() -> Bool { state.withLock { $0.requested = true; return !$0.building } }
        public var requested: Bool { state.withLock { $0.requested } }
        func building(_ value: Bool) { state.withLock { $0.building = value } }
    }

    /// Runs until drained, or after one task with `once` (then the number of tasks it finished is 1, or 0 when none
    /// came within one poll). Returns the outcomes.
    /// `slot`: which of the process's concurrent loops this is (each keeps its own apt archive directory).
    public func run(once: Bool, drain: Drain, slot: Int = 0) async -> [String] {
        var outcomes: [String] = []
        var backoff = 1.0
        while !drain.requested && !Task.isCancelled {
            let claim: ClaimResponse?
            do {
                claim = try await api.claim(ClaimRequest(
                    builder: BuilderRegistration(name: settings.name, version: settings.version, deviceTypes: settings.deviceTypes,
                                                 buildServers: settings.buildServers.isEmpty ? nil : settings.buildServers,
                                                 roles: settings.offeredRoles),
                    wait: settings.pollSeconds))
                backoff = 1
            } catch {
                echo("claim failed: \(error); retrying in \(Int(backoff)) s")
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(backoff * 2, 30)
                continue
            }
            guard let claim else {
                if once { return outcomes }
                continue
            }
            echo("claimed task \(claim.task.id) (attempt \(claim.lease.attempt), image \(claim.task.imageId))")
            drain.building(true)
            // The build runs to its end even when the worker is asked to stop meanwhile.
            var run = BuildRun(claim: claim, api: api, settings: settings, runner: runner, http: http, echo: echo)
            run.slot = slot
            let outcome = await Task { await run.execute() }.value
            drain.building(false)
            echo("task \(claim.task.id): \(outcome)")
            outcomes.append("\(outcome)")
            if once { return outcomes }
        }
        return outcomes
    }
}
