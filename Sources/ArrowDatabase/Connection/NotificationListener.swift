import ArrowCore
import Logging
import PostgresNIO

/// `LISTEN` on one channel over a connection held outside the pool (a pooled connection goes back to the pool
/// after each query, and its subscription with it). Reconnects after a lost connection, and reports a wake-up
/// after every (re)connect, since a notification sent while it was away is gone.
///
/// It describes and reflects itself without its connection settings (which hold the database password): a service
/// group logs its services' descriptions at debug.
public struct NotificationListener: Sendable, RedactingReflection {
    let configuration: PostgresConnection.Configuration
    let channel: String
    let logger: Logger

    public var shownFields: KeyValuePairs<String, Any> { ["channel": channel, "configuration": Redacted(configuration)] }

    /// Runs until the task is cancelled, calling `onNotify` for each notification. `onListening` is called each time
    /// the `LISTEN` is in place.
    public func run(onListening: @escaping @Sendable () -> Void = {}, onNotify: @escaping @Sendable () -> Void) async {
        var backoff: Duration = .milliseconds(100)
        var connectionID = 0
        while !Task.isCancelled {
            connectionID += 1
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: connectionID, logger: logger)
                backoff = .milliseconds(100)
                do {
                    try await connection.listen(on: channel) { notifications in
                        onListening()
                        onNotify()
                        for try await _ in notifications { onNotify() }
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("notification listener lost its connection", metadata: ["error": "\(String(describing: type(of: error)))"]) }
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("notification listener cannot connect; retrying", metadata: ["retry_in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}
