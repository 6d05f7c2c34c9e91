import Metrics

/// The queue's Prometheus series.
enum BuildMetrics {
    static func leaseExpiries(requeued: Int, failed: Int) {
        if requeued > 0 { Counter(label: "arrow_build_lease_expiries_total", dimensions: [("outcome", "requeued")]).increment(by: requeued) }
        if failed > 0 { Counter(label: "arrow_build_lease_expiries_total", dimensions: [("outcome", "failed")]).increment(by: failed) }
    }
}
