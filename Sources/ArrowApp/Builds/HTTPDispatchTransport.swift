import ArrowBuilds
import ArrowCore
import ArrowNetwork
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The dispatcher's HTTP client: one POST per attempt, 30 s at most, no redirects followed.
public struct HTTPDispatchTransport: DispatchTransport {
    let client: HTTPClient

    public init(client: HTTPClient = .shared) { self.client = client }

    /// For the dispatcher's own client: a refused connection fails the attempt at once (the outbox has its own
    /// backoff; AsyncHTTPClient's default would keep reconnecting until the connect timeout), and no redirects.
    public static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(30)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    public func post(url: String, headers: [(String, String)], body: String, connectTo: IPAddress?) async -> (DeliveryRetryPolicy.Outcome, error: String?) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        guard let connectTo, let host = URL(string: url)?.host else { return await send(request, with: client) }
        // Pinned to the address the dispatcher checked: a client of its own whose DNS override maps the host to it
        // (certificates are still checked for the host, which is also what `Host` says). Webhooks are few.
        var configuration = Self.configuration
        configuration.dnsOverride = [host: connectTo.description]
        let pinned = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result = await send(request, with: pinned)
        try? await pinned.shutdown()
        return result
    }

    private func send(_ request: HTTPClientRequest, with client: HTTPClient) async -> (DeliveryRetryPolicy.Outcome, error: String?) {
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            // Read (and bound) the body so the connection can be reused; GitHub's answer is empty or a short JSON error.
            _ = try? await response.body.collect(upTo: 64 << 10)
            return (DeliveryRetryPolicy.Outcome(
                status: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"),
                rateLimitRemaining: response.headers.first(name: "x-ratelimit-remaining"),
                rateLimitReset: response.headers.first(name: "x-ratelimit-reset")), nil)
        } catch {
            // The error's type only: a description may carry the URL, and the URL's query could carry a credential.
            return (DeliveryRetryPolicy.Outcome(status: nil), "no response: \(String(describing: type(of: error)))")
        }
    }
}
