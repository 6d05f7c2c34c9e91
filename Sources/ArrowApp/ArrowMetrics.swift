import Metrics
import Prometheus

/// The process's metrics registry. swift-metrics allows one bootstrap per process, so it happens here, once.
public enum ArrowMetrics {
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latency buckets suited to an API whose target p99 is 10 ms.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
    }()

    /// The Prometheus text exposition of every metric.
    public static func exposition() -> String { registry.emitToString() }

    /// Installs the Prometheus factory; later calls do nothing.
    public static func bootstrap() { _ = bootstrapped }
}
