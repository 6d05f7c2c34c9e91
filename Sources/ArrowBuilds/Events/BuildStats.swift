import ArrowCore
import Foundation

/// Success rate and build-time percentiles over a window, per image and per organization (`GET /api/vm-build/stats`).
public struct BuildStatistics: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var key: String
        public var builds: Int
        public var succeeded: Int
        public var failed: Int
        public var canceled: Int
        /// succeeded / (succeeded + failed); nil when neither happened. Canceled builds say nothing about the build.
        public var successRate: Double?
        /// Over succeeded builds' last attempts, seconds.
        public var p50Seconds: Double?
        public var p95Seconds: Double?
        /// Failures by code.
        public var failures: [String: Int]
    }

    public var since: Date
    public var until: Date
    public var byImage: [Group]
    public var byOrganization: [Group]
    /// True when more tasks ended in the window than were read (the newest were counted).
    public var truncated: Bool

    static func compute(_ builds: [FinishedBuild], since: Date, until: Date, truncated: Bool) -> Self {
        Self(since: since, until: until, byImage: groups(builds, by: { $0.imageID.rawValue }),
             byOrganization: groups(builds, by: { $0.organizationID.rawValue }), truncated: truncated)
    }

    static func groups(_ builds: [FinishedBuild], by key: (FinishedBuild) -> String) -> [Group] {
        Dictionary(grouping: builds, by: key).map { key, members in
            let succeeded = members.filter { $0.status == .succeeded }
            let failed = members.filter { $0.status == .failed }
            let durations = succeeded.compactMap(\.duration).sorted()
            let decided = succeeded.count + failed.count
            return Group(
                key: key, builds: members.count, succeeded: succeeded.count, failed: failed.count,
                canceled: members.filter { $0.status == .canceled }.count,
                successRate: decided == 0 ? nil : Double(succeeded.count) / Double(decided),
                p50Seconds: percentile(durations, 0.5), p95Seconds: percentile(durations, 0.95),
                failures: Dictionary(grouping: failed, by: { $0.errorCode?.rawValue ?? "unknown" }).mapValues(\.count))
        }.sorted { ($0.builds, $1.key) > ($1.builds, $0.key) }
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

extension BuildServices {
    /// The most tasks one statistics request reads.
    static let statisticsLimit = 50_000

    public func statistics(window: TimeInterval, principal: Principal) async throws -> BuildStatistics {
        try principal.requireHuman()
        try principal.require(.buildRead)
        let until = Date()
        let since = until.addingTimeInterval(-window)
        let builds = try await store.repositories.buildHistory.finished(since: since, scope: principal.scope, limit: Self.statisticsLimit + 1)
        return BuildStatistics.compute(Array(builds.prefix(Self.statisticsLimit)), since: since, until: until,
                                       truncated: builds.count > Self.statisticsLimit)
    }

    public func phases(of task: BuildTask) async throws -> [PhaseTiming] {
        try await store.repositories.buildHistory.phases(task: task.id)
    }
}
