import ArrowBuilds
import ArrowCore
import Foundation
import Metrics

/// The queue's Prometheus series: depth and oldest queued age (sampled by the sweeper), claim latency, build
/// and phase durations, outcomes by failure code, lease expiries, dispatch attempts.
enum BuildMetrics {
    static let observe: QueueObserver = { event in
        switch event {
        case .claimed(let latency):
            Timer(label: "arrow_build_claim_duration_seconds").recordNanoseconds(
                latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
        case .finished(let status, let code, let duration):
            Counter(label: "arrow_build_outcomes_total", dimensions: [("status", status.rawValue), ("code", code?.rawValue ?? "none")]).increment()
            if let duration {
                Timer(label: "arrow_build_duration_seconds", dimensions: [("status", status.rawValue)]).recordSeconds(duration)
            }
        case .phaseEnded(let phase, let status, let duration):
            Timer(label: "arrow_build_phase_duration_seconds", dimensions: [("phase", phase.rawValue), ("status", status.rawValue)])
                .recordSeconds(duration)
        case .dispatchAttempt(let status):
            Counter(label: "arrow_dispatch_attempts_total", dimensions: [("status", status.map(String.init) ?? "none")]).increment()
        }
    }

    static func queue(_ summary: QueueSummary) {
        Gauge(label: "arrow_build_queue_depth", dimensions: [("status", "queued")]).record(summary.queued)
        Gauge(label: "arrow_build_queue_depth", dimensions: [("status", "running")]).record(summary.running)
        Gauge(label: "arrow_build_queue_oldest_age_seconds").record(summary.oldestQueuedAge ?? 0)
    }

    static func builders(lastSeenAgo: TimeInterval?) {
        Gauge(label: "arrow_builder_last_seen_age_seconds").record(lastSeenAgo ?? -1)
    }

    static func leaseExpiries(requeued: Int, failed: Int) {
        if requeued > 0 { Counter(label: "arrow_build_lease_expiries_total", dimensions: [("outcome", "requeued")]).increment(by: requeued) }
        if failed > 0 { Counter(label: "arrow_build_lease_expiries_total", dimensions: [("outcome", "failed")]).increment(by: failed) }
    }
}
