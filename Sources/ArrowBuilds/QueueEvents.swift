import ArrowCore
import Foundation

/// What the queue reports as it works, for metrics; the App turns these into Prometheus series. ArrowBuilds stays
/// free of a metrics backend.
public enum QueueEvent: Sendable, Equatable {
    /// A claim that returned a task, and how long the claim call took (long-poll wait included).
    case claimed(latency: Duration)
    /// A task ended: its outcome, failure code, and time from first start to end.
    case finished(status: BuildTaskStatus, code: BuildFailureCode?, duration: TimeInterval?)
    /// A phase of an attempt ended (the next began, or the attempt ended) after running this long.
    case phaseEnded(phase: BuildPhase, status: BuildTaskStatus, duration: TimeInterval)
    /// A dispatch attempt ended with this HTTP status (nil: no answer).
    case dispatchAttempt(status: Int?)
}

public typealias QueueObserver = @Sendable (QueueEvent) -> Void
