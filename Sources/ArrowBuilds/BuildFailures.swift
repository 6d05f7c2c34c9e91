import ArrowCore
import ArrowProtocol
import Foundation

/// "Review logs": the organization's recent failed builds, grouped so that one broken role failing twenty builds is one
/// line with a count, not twenty. For Ansible failures the group is the failing role and task, read from the task's
/// `ansible.log` (the `TASK [role : name]` header above the first `fatal:`/`failed:` line); every example links to
/// the log line.
public struct BuildFailures: Sendable {
    let store: any DataStore

    public init(store: any DataStore) { self.store = store }

    public func report(principal: Principal, since: Date, limit: Int = 500) async throws -> BuildFailureReport {
        try principal.requireHuman()
        try principal.require(.buildRead)
        let failed = try await store.repositories.buildTasks.list(BuildTaskFilter(status: .failed), scope: principal.scope, limit: limit)
            .filter { ($0.finishedAt ?? $0.createdAt) >= since }
        struct Key: Hashable { var code: String, phase: String?, role: String?, task: String? }
        var groups: [Key: [(BuildTask, BuildFailureReport.Example)]] = [:]
        for task in failed {
            let code = task.state.errorCode?.rawValue ?? "unknown"
            var key = Key(code: code, phase: task.state.phase?.rawValue, role: nil, task: nil)
            var file: StorageLayout.BuildLog?
            var line: Int?
            if let (log, found) = try await explanation(of: task) {
                file = log
                line = found.line
                if log == .ansible { (key.role, key.task) = (found.role, found.task) }
            }
            let example = BuildFailureReport.Example(
                taskId: task.id.rawValue, imageId: task.imageID.rawValue, failedAt: task.finishedAt ?? task.createdAt, message: task.state.errorMessage,
                logFile: file.map { "\($0.rawValue).log" }, line: line,
                logUrl: file.map { "/api/build-logs/proxy?task=\(task.id.rawValue)&file=\($0.rawValue).log" },
                consoleUrl: "/console/task?id=\(task.id.rawValue)" + (file.map { f in line.map { "#\(f.rawValue)-L\($0)" } ?? "" } ?? ""))
            groups[key, default: []].append((task, example))
        }
        let report = groups.map { key, entries in
            let times = entries.map { $0.1.failedAt }
            return BuildFailureReport.Group(
                code: key.code, phase: key.phase, role: key.role, ansibleTask: key.task, count: entries.count, firstSeen: times.min()!,
                lastSeen: times.max()!, examples: Array(entries.map(\.1).sorted { $0.failedAt > $1.failedAt }.prefix(10)))
        }.sorted { ($0.count, $0.lastSeen) > ($1.count, $1.lastSeen) }
        return BuildFailureReport(since: since, failures: failed.count, groups: report)
    }

    /// The log line that explains a failure: Ansible's failing task for `ansible_failed`, else the last error-looking
    /// line of the failing phase's log.
    func explanation(of task: BuildTask) async throws -> (StorageLayout.BuildLog, LogFinding)? {
        let phaseLog: [BuildPhase: StorageLayout.BuildLog] = [.preparation: .download, .customization: .ansible, .finalization: .summary, .deployment: .deploy]
        var files: [StorageLayout.BuildLog] = task.state.errorCode == .ansibleFailed ? [.ansible] : []
        if let phase = task.state.phase, let log = phaseLog[phase], !files.contains(log) { files.append(log) }
        for file in files {
            let text = try await store.repositories.taskLogs.chunks(task: task.id, file: file, after: nil).map(\.content).joined()
            if file == .ansible, let found = Self.ansibleFailure(in: text) { return (file, found) }
            if let found = Self.lastError(in: text) { return (file, found) }
        }
        return nil
    }

    struct LogFinding: Equatable {
        var role: String?
        var task: String?
        var line: Int
    }

    /// The first failing Ansible task: the `TASK [...]` header in force at the first `fatal:` / `failed:` line (or
    /// the first `ERROR!` when the playbook never ran).
    static func ansibleFailure(in text: String) -> LogFinding? {
        var header: (role: String?, task: String)?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Lines may carry a prefix (a time stamp): look for the markers anywhere.
            if let start = line.range(of: "TASK ["), let close = line[start.upperBound...].lastIndex(of: "]") {
                let inside = line[start.upperBound..<close]
                if let separator = inside.range(of: " : ") {
                    header = (String(inside[..<separator.lowerBound]), String(inside[separator.upperBound...]))
                } else {
                    header = (nil, String(inside))
                }
            } else if line.range(of: "fatal: [") != nil || line.range(of: "failed: [") != nil {
                return LogFinding(role: header?.role, task: header?.task ?? "(unknown task)", line: index + 1)
            } else if let error = line.range(of: "ERROR!") {
                return LogFinding(role: nil, task: String(line[error.lowerBound...].prefix(120)), line: index + 1)
            }
        }
        return nil
    }

    static func lastError(in text: String) -> LogFinding? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let index = lines.lastIndex(where: { $0.range(of: #"fatal|error|failed"#, options: [.regularExpression, .caseInsensitive]) != nil })
        else { return nil }
        return LogFinding(role: nil, task: nil, line: index + 1)
    }
}
