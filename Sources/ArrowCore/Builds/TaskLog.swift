import Foundation

/// One piece of a build log as a builder sent it: idempotent per (task, file, attempt, sequence), so a retried POST
/// never duplicates lines.
public struct TaskLogChunk: Sendable, Equatable {
    public var taskID: BuildTaskID
    public var attempt: Int
    public var file: StorageLayout.BuildLog
    public var sequence: Int
    public var content: String
    public var createdAt: Date

    public init(taskID: BuildTaskID, attempt: Int, file: StorageLayout.BuildLog, sequence: Int, content: String, createdAt: Date) {
        self.taskID = taskID
        self.attempt = attempt
        self.file = file
        self.sequence = sequence
        self.content = content
        self.createdAt = createdAt
    }

    /// Where a reader has got to: chunks after this position are new.
    public struct Position: Sendable, Equatable, Comparable {
        public var attempt: Int
        public var sequence: Int

        public init(attempt: Int, sequence: Int) {
            self.attempt = attempt
            self.sequence = sequence
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.attempt, lhs.sequence) < (rhs.attempt, rhs.sequence) }
    }

    public var position: Position { Position(attempt: attempt, sequence: sequence) }
}

public protocol TaskLogRepository: Sendable {
    /// Stores the chunk unless one with its key exists; true when it was new.
    func append(_ chunk: TaskLogChunk) async throws -> Bool
    /// The file's chunks after `position` (all with nil), in order.
    func chunks(task: BuildTaskID, file: StorageLayout.BuildLog, after position: TaskLogChunk.Position?) async throws -> [TaskLogChunk]
    /// Finished tasks whose logs have not been written to object storage yet.
    func unarchived(limit: Int) async throws -> [BuildTask]
    /// Takes the task for archiving (a conditional update): false when another archiver took it first.
    func claimArchiving(task: BuildTaskID, at: Date) async throws -> Bool
    /// Gives an archiving back (writing failed), so a later run tries again.
    func releaseArchiving(task: BuildTaskID) async throws
}
