import ArrowCore
import ArrowProtocol
import Foundation

/// Fires templates and settles their runs; every API node runs ``tick(at:)`` on a timer (and once at start-up). It
/// keeps no state of its own: what is due is read from the database, and the unique trigger key of a run decides which
/// node fires a slot, so two nodes on one database fire each slot once, and a crash at any point is repaired by the
/// next tick.
///
/// - A schedule's slot fires once; a server down across several slots fires once, for the latest, when it is back.
/// - A template following its base image fires once for each new active version of that image.
/// - A run whose task has ended is settled by ``Promotion``: promoted, unchanged, not promoted, or failed.
public struct TemplateScheduler: Sendable {
    let templates: BuildTemplates

    public init(templates: BuildTemplates) { self.templates = templates }

    public struct Tick: Sendable, Equatable {
        public var fired: [TemplateRun] = []
        public var settled: [TemplateRun] = []
    }

    @discardableResult
    public func tick(at now: Date) async throws -> Tick {
        var tick = Tick()
        tick.fired += try await fireSchedules(at: now)
        tick.fired += try await fireNewBaseVersions(at: now)
        tick.settled = try await settleRuns(at: now)
        return tick
    }

    func fireSchedules(at now: Date) async throws -> [TemplateRun] {
        let repository = templates.store.repositories.buildTemplates
        var fired: [TemplateRun] = []
        for template in try await repository.due(at: now, limit: 200) {
            guard let due = template.nextRunAt, let expression = template.schedule,
                  let cron = try? CronSchedule(expression, timeZone: template.timeZone) else {
                try await repository.setNextRun(id: template.id, from: template.nextRunAt, to: nil)
                continue
            }
            let slot = cron.latest(due: due, upTo: now)
            if let run = try await templates.fire(template, trigger: .schedule, key: "schedule:\(Int64(slot.timeIntervalSince1970))", at: now) {
                fired.append(run)
            }
            try await repository.setNextRun(id: template.id, from: due, to: cron.next(after: now))
        }
        return fired
    }

    func fireNewBaseVersions(at now: Date) async throws -> [TemplateRun] {
        let repository = templates.store.repositories.buildTemplates
        var fired: [TemplateRun] = []
        for template in try await repository.followingBase(limit: 1000) {
            guard let last = template.lastBaseImageID else { continue }
            let newest = try await templates.newest(last)
            guard newest != last else { continue }
            if let run = try await templates.fire(template, trigger: .baseImage, key: "base:\(newest.rawValue)", at: now) { fired.append(run) }
            try await repository.setLastBase(id: template.id, image: newest)
        }
        return fired
    }

    func settleRuns(at now: Date) async throws -> [TemplateRun] {
        let repos = templates.store.repositories
        var settled: [TemplateRun] = []
        for run in try await repos.buildTemplates.openRuns(limit: 200) {
            guard let template = try await repos.buildTemplates.find(id: run.templateID, organization: run.organizationID) else { continue }
            var finished = run
            finished.finishedAt = now
            var outcome: Promotion.Outcome
            if let taskID = run.taskID, let task = try await repos.buildTasks.find(id: taskID, scope: .all) {
                guard !task.status.isOpen else { continue }
                finished.artifactImageID = task.state.artifactImageID
                finished.previousArtifactID = template.latestArtifactID
                outcome = Promotion.decide(task: task, requireVerification: template.requireVerification,
                                           new: try await provenance(of: task.state.artifactImageID), current: try await provenance(of: template.latestArtifactID))
            } else {
                outcome = Promotion.Outcome(status: .failed, message: "The run's task is gone", diff: nil, alert: true)
            }
            finished.status = outcome.status
            finished.message = outcome.message
            finished.diff = outcome.diff
            let done = finished
            let alert = outcome.alert
            let ended = try await templates.store.transaction { repos in
                guard try await repos.buildTemplates.finishRun(done) else { return false }
                if let artifact = done.artifactImageID { try await Self.stamp(artifact, with: template, run: done, repos) }
                if done.status == .promoted, let artifact = done.artifactImageID {
                    try await repos.buildTemplates.setLatestArtifact(id: template.id, image: artifact)
                    if template.promoteToDefault { try await Self.replaceDefault(template, previous: template.latestArtifactID, with: artifact, repos, at: now) }
                }
                let title = "Template \(template.name): \(done.status.rawValue.replacingOccurrences(of: "_", with: " "))"
                try await TemplateEvents.settled(done, of: template, alert: alert ? title : nil, repos, at: now)
                return true
            }
            if ended { settled.append(done) }
        }
        return settled
    }

    /// The new artifact takes the previous version's place among the organization's defaults (or the end of the list).
    static func replaceDefault(_ template: BuildTemplate, previous: ImageID?, with artifact: ImageID, _ repos: Repositories, at: Date) async throws {
        var defaults = try await repos.collections.defaults(organization: template.organizationID)
        if let previous, let index = defaults.firstIndex(of: previous) {
            defaults[index] = artifact
        } else if !defaults.contains(artifact) {
            defaults.append(artifact)
        }
        try await repos.collections.setDefaults(organization: template.organizationID, defaults, at: at)
    }

    /// Records the template and the revision the artifact was built for in its provenance (what
    /// `GET /api/vm_images/{id}/contents` answers).
    static func stamp(_ artifact: ImageID, with template: BuildTemplate, run: TemplateRun, _ repos: Repositories) async throws {
        guard let record = try await repos.imageBuilds.find(image: artifact), var provenance = record.buildProvenance else { return }
        provenance.template = TemplateStamp(id: template.id.rawValue, name: template.name, revision: run.revision, runId: run.id.rawValue,
                                            trigger: run.trigger.rawValue)
        var stamped = record
        stamped.provenance = String(decoding: try WireJSON.encoder().encode(provenance), as: UTF8.self)
        try await repos.imageBuilds.record(stamped)
    }

    func provenance(of image: ImageID?) async throws -> BuildProvenance? {
        guard let image else { return nil }
        return try await templates.store.repositories.imageBuilds.find(image: image)?.buildProvenance
    }
}
