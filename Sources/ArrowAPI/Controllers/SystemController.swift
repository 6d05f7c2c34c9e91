import NIOCore
import HTTPTypes
import Logging
import ArrowCore
import Hummingbird

/// `/healthz` (the process is alive), `/readyz` (its dependencies answer), `/metrics`, `/openapi.yaml`.
struct SystemController {
    let readiness: @Sendable () async throws -> Void
    let metrics: @Sendable () -> String

    func register(on routes: APIRoutes) {
        routes.get("/healthz", .open) { _, _ in Self.text("ok\n") }
        routes.get("/readyz", .open) { _, context in
            do {
                try await readiness()
                return Self.text("ready\n")
            } catch {
                context.logger.warning("not ready", metadata: ["error": .string(String(reflecting: error))])
                throw ArrowError(.unavailable, reason: "not_ready", "A dependency is not reachable")
            }
        }
        routes.get("/metrics", .open) { _, _ in
            Self.text(metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        routes.get("/openapi.yaml", .open) { _, _ in
            Self.text(OpenAPIDocument.yaml, contentType: "application/yaml")
        }
    }

    static func text(_ body: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
