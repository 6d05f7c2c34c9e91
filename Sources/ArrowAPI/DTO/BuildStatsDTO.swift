import ArrowBuilds
import Hummingbird
import Foundation

/// `GET /api/vm-build/stats`.
struct BuildStatsDTO: ResponseCodable {
    struct Group: Codable, Sendable {
        var builds: Int
        var succeeded: Int
        var failed: Int
        var canceled: Int
        var successRate: Double?
        var p50Seconds: Double?
        var p95Seconds: Double?
        var failures: [String: Int]
        var imageId: String?
        var organizationId: String?

        init(_ group: BuildStatistics.Group, image: Bool) {
            builds = group.builds
            succeeded = group.succeeded
            failed = group.failed
            canceled = group.canceled
            successRate = group.successRate
            p50Seconds = group.p50Seconds
            p95Seconds = group.p95Seconds
            failures = group.failures
            if image { imageId = group.key } else { organizationId = group.key }
        }
    }

    var since: Date
    var until: Date
    var truncated: Bool
    var byImage: [Group]
    var byOrganization: [Group]

    init(_ stats: BuildStatistics) {
        since = stats.since
        until = stats.until
        truncated = stats.truncated
        byImage = stats.byImage.map { Group($0, image: true) }
        byOrganization = stats.byOrganization.map { Group($0, image: false) }
    }
}
