import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Request counts and latency by route, under the names Hummingbird's own `MetricsMiddleware` uses (`hb.requests`,
/// `http.server.request.duration`, `hb.request.errors`, `http.server.active_requests`). ``EdgeMiddleware`` calls it
/// around every request.
///
/// Why not that middleware: it wraps every response body in a closure to record after the body is written, and a
/// body that is a closure loses Hummingbird's fast path (head, body and end in one write). That cost every JSON
/// response two extra hops through the channel's writer and a second `write(2)`: /healthz went from 2 system calls
/// to 3 per request. Here a body already in memory is recorded when the handler returns (what remains is one
/// write of bytes in hand); only a streamed body (downloads) is still recorded after it is written.
struct RouteMetrics: Sendable {
    /// A request being measured.
    struct InFlight {
        let start: UInt64
        let active: Meter
    }

    private let cache = RouteMetricsCache()

    func start(_ request: Request) -> InFlight {
        let active = cache.active(request.method)
        active.increment()
        return InFlight(start: DispatchTime.now().uptimeNanoseconds, active: active)
    }

    /// Records `response` once its body is written: at once for a body in memory, after the last byte for a streamed
    /// one. `failed`: the handler threw and `response` is the error's.
    func finish(_ flight: InFlight, _ response: inout Response, route: String?, method: HTTPRequest.Method, failed: Bool) {
        // No route: the router matched none (404), or authentication refused the request before routing.
        let route = route ?? (response.status == .notFound ? "NotFound" : "Unknown")
        let metrics = cache.endpoint(.init(route: route, method: method, status: response.status))
        if failed { metrics.errorCounter.increment() }
        if let length = response.body.contentLength, length <= Self.inMemoryLimit {
            Self.record(metrics, flight)
        } else {
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { Self.record(metrics, flight) }
                try await body.write(writer)
            }
        }
    }

    private static func record(_ metrics: RouteMetricsCache.EndpointMetrics, _ flight: InFlight) {
        metrics.counter.increment()
        metrics.timer.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - flight.start)
        flight.active.decrement()
    }

    /// Bodies up to this size are JSON documents built in memory; larger ones are streamed.
    static var inMemoryLimit: Int { 1 << 20 }
}

/// The metric objects per method and per (route, method, status), made once: creating them registers with the
/// metrics backend, which takes its lock and builds label strings.
final class RouteMetricsCache: Sendable {
    struct Endpoint: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: HTTPResponse.Status
    }

    struct EndpointMetrics: Sendable {
        let counter: Counter
        let timer: Metrics.Timer
        let errorCounter: Counter

        init(_ id: Endpoint) {
            let labels = [("http.route", id.route), ("http.request.method", id.method.rawValue)]
            let status = id.status.code.description
            counter = Counter(label: "hb.requests", dimensions: labels + [("http.response.status_code", status)])
            timer = Metrics.Timer(
                label: "http.server.request.duration", dimensions: labels + [("http.response.status_code", status)],
                preferredDisplayUnit: .seconds)
            errorCounter = Counter(label: "hb.request.errors", dimensions: labels + [("error.type", status)])
        }
    }

    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let endpoints = Mutex<[Endpoint: EndpointMetrics]>([:])

    func active(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { cache in
            if let meter = cache[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            cache[method] = meter
            return meter
        }
    }

    func endpoint(_ id: Endpoint) -> EndpointMetrics {
        endpoints.withLock { cache in
            if let metrics = cache[id] { return metrics }
            let metrics = EndpointMetrics(id)
            cache[id] = metrics
            return metrics
        }
    }
}
