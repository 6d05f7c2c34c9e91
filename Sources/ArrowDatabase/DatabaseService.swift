import Logging
import ServiceLifecycle

/// Keeps the database open for the life of the service group and closes the pool on shutdown. Listed first in
/// the group, so it is shut down last.
public struct DatabaseService: Service {
    public let client: DatabaseClient

    public init(client: DatabaseClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
