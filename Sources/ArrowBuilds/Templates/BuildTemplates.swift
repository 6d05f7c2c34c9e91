import ArrowCore
import Foundation

/// What people set on a template (the API's body, decoded and with its build options checked by the caller).
public struct TemplateInput: Sendable, Equatable {
    public var name: String
    public var definition: BuildTemplate.Definition
    public var schedule: String?
    public var timeZone: String
    public var requireVerification: Bool
    public var promoteToDefault: Bool

    public init(name: String, definition: BuildTemplate.Definition, schedule: String? = nil, timeZone: String = "UTC",
                requireVerification: Bool = false, promoteToDefault: Bool = false) {
        self.name = name
        self.definition = definition
        self.schedule = schedule
        self.timeZone = timeZone
        self.requireVerification = requireVerification
        self.promoteToDefault = promoteToDefault
    }
}

/// Build templates: saved build definitions per organization, triggered by hand, on a schedule, or when their base
/// image gets a new version (``TemplateScheduler``). Triggering one is the same as a manual build with its fields; the
/// run records the template's revision and the task it queued.
public struct BuildTemplates: Sendable {
    let store: any DataStore
    let trigger: BuildTrigger
    let now: @Sendable () -> Date

    public init(store: any DataStore, trigger: BuildTrigger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.trigger = trigger
        self.now = now
    }

    // MARK: People

    public func create(organization: String, _ input: TemplateInput, principal: Principal) async throws -> BuildTemplate {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store, needing: .imageAdmin)
        let at = now()
        var template = BuildTemplate(organizationID: organization, name: input.name, definition: input.definition, createdBy: principal.user.id,
                                     createdAt: at)
        try await apply(input, to: &template, at: at)
        // A template following its base starts from the base's newest version: only a later one fires a rebuild.
        if input.definition.followLatest { template.lastBaseImageID = try await newest(ImageID(input.definition.baseImageId)) }
        guard try await store.repositories.buildTemplates.insert(template) else {
            throw ArrowError(.conflict, reason: "template_exists", "The organization already has a template named \(input.name)")
        }
        return template
    }

    /// Replaces the template's fields; `ifRevision` refuses the write when someone changed it meanwhile.
    public func update(organization: String, id: String, _ input: TemplateInput, ifRevision: Int?, principal: Principal) async throws -> BuildTemplate {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store, needing: .imageAdmin)
        guard var template = try await store.repositories.buildTemplates.find(id: BuildTemplateID(id), organization: organization) else {
            throw ArrowError.notFound("Build template")
        }
        let stored = template.revision
        if let ifRevision, ifRevision != stored {
            throw ArrowError(.conflict, reason: "revision_mismatch", "The template is at revision \(stored), not \(ifRevision)")
        }
        let at = now()
        let baseChanged = template.definition.baseImageId != input.definition.baseImageId || !template.definition.followLatest
        try await apply(input, to: &template, at: at)
        template.revision = stored + 1
        template.updatedAt = at
        if input.definition.followLatest, baseChanged { template.lastBaseImageID = try await newest(ImageID(input.definition.baseImageId)) }
        guard try await store.repositories.buildTemplates.update(template, expectedRevision: stored) else {
            throw ArrowError(.conflict, reason: "revision_mismatch", "The template changed meanwhile; read it again")
        }
        return template
    }

    public func list(organization: String, principal: Principal) async throws -> [BuildTemplate] {
        try await store.repositories.buildTemplates.list(organization: try await OrganizationAdmin.require(of: organization, principal, store, needing: .buildRead))
    }

    public func find(organization: String, id: String, principal: Principal) async throws -> BuildTemplate {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store, needing: .buildRead)
        guard let template = try await store.repositories.buildTemplates.find(id: BuildTemplateID(id), organization: organization) else {
            throw ArrowError.notFound("Build template")
        }
        return template
    }

    public func delete(organization: String, id: String, principal: Principal) async throws {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store, needing: .imageAdmin)
        guard try await store.repositories.buildTemplates.delete(id: BuildTemplateID(id), organization: organization) else {
            throw ArrowError.notFound("Build template")
        }
    }

    public func runs(organization: String, id: String, principal: Principal, limit: Int) async throws -> [TemplateRun] {
        let template = try await find(organization: organization, id: id, principal: principal)
        return try await store.repositories.buildTemplates.runs(template: template.id, limit: limit)
    }

    /// Triggers the template now, as a manual build with its fields.
    public func run(organization: String, id: String, principal: Principal) async throws -> TemplateRun {
        let organization = try await OrganizationAdmin.require(of: organization, principal, store, needing: .imageAdmin)
        guard let template = try await store.repositories.buildTemplates.find(id: BuildTemplateID(id), organization: organization) else {
            throw ArrowError.notFound("Build template")
        }
        let runID = TemplateRunID.generate()
        let run = try await fire(template, trigger: .manual, key: "manual:\(runID.rawValue)", id: runID, at: now(), throwing: true)
        return run!
    }

    // MARK: Firing (people and the scheduler)

    /// Queues the template's build and records the run, in one transaction; nil when a run with `key` exists (another
    /// node fired this slot). A build that cannot be queued (the base image was deleted) is recorded as a failed run,
    /// once, unless `throwing`.
    @discardableResult
    func fire(_ template: BuildTemplate, trigger kind: TemplateRun.Trigger, key: String, id: TemplateRunID = .generate(), at: Date,
              throwing: Bool = false) async throws -> TemplateRun? {
        var run = TemplateRun(id: id, templateID: template.id, organizationID: template.organizationID, revision: template.revision,
                              trigger: kind, triggerKey: key, taskID: nil, createdAt: at)
        do {
            let base = try await template.definition.followLatest ? newest(ImageID(template.definition.baseImageId)) : ImageID(template.definition.baseImageId)
            let (options, server) = try await trigger.deployment(template.definition.options, buildServerID: template.definition.buildServerId,
                                                                 organization: template.organizationID)
            let task = BuildTask(
                organizationID: template.organizationID, imageID: base, deviceType: DeviceType(rawValue: template.definition.buildType) ?? .vm,
                buildServerID: server, client: "", vmName: template.definition.vmName,
                description: "template \(template.name) revision \(template.revision) (\(kind.rawValue))", options: options,
                createdBy: template.createdBy, createdAt: at)
            run.taskID = task.id
            let queued = run
            let inserted = try await store.transaction { repos in
                guard try await repos.buildTemplates.insertRun(queued) else { return false }
                try await BuildTrigger.requireBuildable(base, for: template.organizationID, repos)
                try await BuildTrigger.requireServer(server, if: options, of: template.organizationID, repos)
                let image = try await repos.images.find(id: base, scope: .all)
                try await BuildTrigger.enqueue(task, requestID: "template-\(queued.id.rawValue)", imageName: image?.name ?? "", at: at, repos)
                return true
            }
            guard inserted else { return nil }
            trigger.wakeups.signal()
            return run
        } catch let error as ArrowError where !throwing {
            run.taskID = nil
            run.status = .failed
            run.message = "Not queued: \(error.message)"
            run.finishedAt = at
            let failed = run
            let inserted = try await store.transaction { repos in
                guard try await repos.buildTemplates.insertRun(failed) else { return false }
                try await TemplateEvents.settled(failed, of: template, alert: "Template \(template.name) could not start a build", repos, at: at)
                return true
            }
            return inserted ? run : nil
        }
    }

    /// The newest active version of `image`'s line (following `previous_version_id` forward).
    func newest(_ image: ImageID) async throws -> ImageID {
        var current = image
        for _ in 0..<1000 {
            guard let next = try await store.repositories.buildTemplates.activeSuccessor(of: current) else { break }
            current = next
        }
        return current
    }

    private func apply(_ input: TemplateInput, to template: inout BuildTemplate, at: Date) async throws {
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
            throw ArrowError(.unprocessable, reason: "invalid_name", "A template's name is 1 to 100 characters on one line")
        }
        guard DeviceType(rawValue: input.definition.buildType) != nil else {
            throw ArrowError(.unprocessable, reason: "invalid_build_type", "build_type must be pvm or vm")
        }
        try input.definition.options.validate()
        try TriggerValidation.text(input.definition.vmName, "vm_name", max: 128)
        _ = try await trigger.deployment(input.definition.options, buildServerID: input.definition.buildServerId, organization: template.organizationID)
        let organization = template.organizationID
        try await store.transaction { repos in
            try await BuildTrigger.requireBuildable(ImageID(input.definition.baseImageId), for: organization, repos)
        }
        template.name = name
        template.definition = input.definition
        template.requireVerification = input.requireVerification
        template.promoteToDefault = input.promoteToDefault
        template.timeZone = input.timeZone
        if let schedule = input.schedule, !schedule.trimmingCharacters(in: .whitespaces).isEmpty {
            let cron = try CronSchedule(schedule, timeZone: input.timeZone)
            guard let next = cron.next(after: at) else {
                throw ArrowError(.unprocessable, reason: "invalid_schedule", "The schedule \(schedule) never fires")
            }
            template.schedule = cron.expression
            template.nextRunAt = next
        } else {
            _ = try CronSchedule.timeZone(named: input.timeZone)
            template.schedule = nil
            template.nextRunAt = nil
        }
    }
}
