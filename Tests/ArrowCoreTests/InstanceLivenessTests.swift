import ArrowCore
import Foundation
import Testing

@Suite struct InstanceLivenessTests {
    let now = Date(timeIntervalSince1970: 10_000)

    func instance(_ id: String, host: String = "here", pid: Int64 = 1, beatAgo: TimeInterval = 5) -> ServerInstance {
        ServerInstance(id: id, host: host, pid: pid, startedAt: now.addingTimeInterval(-1000), heartbeatAt: now.addingTimeInterval(-beatAgo))
    }

    @Test func recentHeartbeatsAreAliveUnlessTheirProcessOnThisHostIsGone() {
        let instances = [
            instance("running"), instance("killed", pid: 2), instance("silent", beatAgo: 91),
            instance("elsewhere", host: "other", pid: 2), instance("elsewhere-silent", host: "other", beatAgo: 200),
        ]
        let alive = InstanceLiveness.alive(instances, now: now, staleAfter: 90, host: "here", processExists: { $0 == 1 })
        #expect(alive == ["running", "elsewhere"])
    }
}
