import Foundation

/// Which server processes count as alive, for cleaning up what dead ones left. A process is alive while its heartbeat
/// is recent, except that a process on this same host whose pid no longer exists is dead at once (so a restart after
/// `kill -9` cleans up straight away instead of waiting out the heartbeat).
public enum InstanceLiveness {
    public static func alive(
        _ instances: [ServerInstance], now: Date, staleAfter: TimeInterval, host: String, processExists: (Int64) -> Bool
    ) -> Set<String> {
        Set(instances.filter { instance in
            guard now.timeIntervalSince(instance.heartbeatAt) < staleAfter else { return false }
            return instance.host != host || processExists(instance.pid)
        }.map(\.id))
    }
}
