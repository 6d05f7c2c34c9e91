import SQLiteNIO

/// SQLite answers BUSY when another connection holds the write lock. Waiting inside SQLite (busy_timeout) would
/// park one of NIO's few blocking threads, and with every thread parked the lock holder can never commit. So the
/// busy timeout is kept short and the wait happens here, suspended, with backoff.
enum SQLiteBusy {
    /// How long SQLite itself may wait before answering BUSY, in milliseconds.
    static let sqliteTimeoutMilliseconds = 20
    /// How long we retry in total before giving up.
    static let giveUpAfter: Duration = .seconds(30)

    static func isBusy(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        switch error.reason {
        case .busy, .locked, .busyInRecovery, .busyInSnapshot, .busyTimeout, .lockedBySharedCache, .lockedVirtualTable: return true
        default: return false
        }
    }

    /// Runs `body`, retrying while SQLite answers BUSY. Only for statements that did nothing when refused:
    /// autocommit statements and `BEGIN`.
    static func retrying<R>(_ body: () async throws -> R) async throws -> R {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: giveUpAfter)
        var delay = Duration.milliseconds(1)
        while true {
            do {
                return try await body()
            } catch where isBusy(error) && clock.now < deadline {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(50))
            }
        }
    }
}
