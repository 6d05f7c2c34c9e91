import ArrowAPI
import ArrowApp
import ArrowCore
import ArrowTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import Yams

@Suite struct SystemAPITests {
    @Test(arguments: TestBackend.allCases)
    func healthAndReadiness(_ backend: TestBackend) async throws {
        try await Harness.withApp(backend) { client, _ in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(try await client.send(.get, "/readyz").status == .ok)
        }
    }

    @Test func readinessFailsWith503WhenTheDatabaseIsGone() async throws {
        try await Self.withUnusedBackends { backends in
            let router = buildRouter(APIDependencies(identity: backends.identity, images: backends.images, readiness: { throw CancellationError() }, metrics: { "" }))
            try await Application(router: router).test(.router) { client in
                let response = try await client.send(.get, "/readyz")
                #expect(response.status == .serviceUnavailable)
                #expect(response.errorCode == "not_ready")
            }
        }
    }

    @Test func requestIDsAreEchoedOrGenerated() async throws {
        try await Harness.withApp(.sqlite) { client, _ in
            let given = try await client.send(.get, "/healthz", headers: [HTTPField.Name("X-Request-ID")!: "abc-123"])
            #expect(given.headers[HTTPField.Name("X-Request-ID")!] == "abc-123")
            let generated = try await client.send(.get, "/healthz")
            #expect(generated.headers[HTTPField.Name("X-Request-ID")!]?.count == 36)
            // Header injection attempts are replaced, not echoed.
            let hostile = try await client.send(.get, "/healthz", headers: [HTTPField.Name("X-Request-ID")!: "a b\"c"])
            #expect(hostile.headers[HTTPField.Name("X-Request-ID")!] != "a b\"c")
            // Errors carry the id in the body too.
            let missing = try await client.send(.get, "/api/nowhere", headers: [HTTPField.Name("X-Request-ID")!: "req-9"])
            #expect(missing.status == .notFound)
            #expect(((try missing.json()["error"]) as? [String: Any])?["request_id"] as? String == "req-9")
        }
    }

    @Test func unknownRoutesAndMethodsGetJSONErrors() async throws {
        try await Harness.withApp(.sqlite) { client, seed in
            let missing = try await client.send(.get, "/api/nowhere", token: seed.superuser)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            #expect(missing.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }

    @Test func metricsExposeRequestCountsAndLatencyByRoute() async throws {
        try await Harness.withApp(.sqlite) { client, seed in
            _ = try await client.send(.get, "/api/me", token: seed.superuser)
            let metrics = try await client.send(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests"))
            #expect(metrics.text.contains("http_server_request_duration"))
            #expect(metrics.text.contains("/api/me"))
            #expect(!metrics.text.contains(seed.superuser))
        }
    }

    @Test func refusedRequestsCarryTheirIDAndCountAsErrors() async throws {
        try await Harness.withApp(.sqlite) { client, _ in
            // Other suites run in parallel against the same metrics backend: compare before and after.
            let before = Self.sum(of: "hb_request_errors", label: #"error_type="401""#, in: try await client.send(.get, "/metrics").text)
            let refused = try await client.send(
                .get, "/api/me", headers: [.authorization: "Bearer not-a-token", HTTPField.Name("X-Request-ID")!: "refused-1"])
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[HTTPField.Name("X-Request-ID")!] == "refused-1")
            #expect(((try refused.json()["error"]) as? [String: Any])?["request_id"] as? String == "refused-1")
            let after = Self.sum(of: "hb_request_errors", label: #"error_type="401""#, in: try await client.send(.get, "/metrics").text)
            #expect(after >= before + 1)
        }
    }

    /// The sum of the samples of `metric` whose labels include `label`, in Prometheus exposition text.
    static func sum(of metric: String, label: String, in text: String) -> Double {
        text.split(separator: "\n")
            .filter { $0.hasPrefix(metric) && $0.contains(label) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    @Test func theOpenAPIDocumentListsExactlyTheRouterRoutes() async throws {
        let routes = try await Self.withUnusedBackends { backends in
            buildRouter(APIDependencies(identity: backends.identity, images: backends.images, readiness: {}, metrics: { "" })).routes
        }
        // The console's pages are HTML for browsers, not API operations: the document leaves them out.
        let apiRoutes = routes.filter { route in
            let path = route.path.description
            return !(path.isEmpty || path == "/" || path.hasPrefix("console") || path.hasPrefix("/console"))
        }
        let served = Set(apiRoutes.map { route -> String in
            let path = route.path.description.split(separator: "/").map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : part == "**" ? "{key}" : String(part)
            }.joined(separator: "/")
            return "\(route.method) /\(path)"
        })
        let documented = try OpenAPIRoutes.documented()
        #expect(served.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented routes the server lacks: \(documented.subtracting(served).sorted())")
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
    }

    @Test func theOpenAPIDocumentIsServed() async throws {
        try await Harness.withApp(.sqlite) { client, _ in
            let response = try await client.send(.get, "/openapi.yaml")
            #expect(response.status == .ok)
            #expect(response.text == OpenAPIDocument.yaml)
        }
    }

    /// Backends over an empty SQLite database, for router-only tests; closed afterwards.
    static func withUnusedBackends<R>(_ body: (Backends) async throws -> R) async throws -> R {
        try await Backends.using(try await TestBackend.sqlite.freshConfiguration(), logger: .init(label: "test"), body)
    }
}
