import Foundation

/// An external tool's invocation as a typed argument list: never a shell string, so no value (a host name, a
/// package name, a path from a configuration) is ever parsed by a shell.
public struct Command: Sendable, Equatable, CustomStringConvertible {
    /// A name looked up on `PATH`, or an absolute path.
    public var executable: String
    public var arguments: [String]
    /// Added to (or, with nil, removed from) the inherited environment.
    public var environment: [String: String?]
    public var workingDirectory: String?
    /// Killed, with its whole process group, when it runs longer.
    public var timeout: Duration?
    /// Written to standard input, then closed.
    public var input: String?

    public init(
        _ executable: String, _ arguments: [String], environment: [String: String?] = [:], workingDirectory: String? = nil,
        timeout: Duration? = nil, input: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.input = input
    }

    /// The command as a reader would type it (for logs; arguments with spaces or quotes are single-quoted).
    public var description: String { ShellWords.join([executable] + arguments) }
}

/// Words as a POSIX shell reads them back unchanged: for logs, and for the one place a command must pass through a
/// shell (ssh sends its remote command as one string, which the remote shell splits).
public enum ShellWords {
    public static func quote(_ word: String) -> String {
        word.isEmpty || word.contains(where: { " \t\n'\"\\$`;&|<>*?()[]{}#~=%!".contains($0) })
            ? "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'" : word
    }

    public static func join(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }
}

/// One line a command wrote, as it wrote it.
public struct CommandOutputLine: Sendable, Equatable {
    public enum Stream: String, Sendable { case stdout, stderr }
    public var stream: Stream
    public var text: String

    public init(_ stream: Stream, _ text: String) {
        self.stream = stream
        self.text = text
    }
}

/// How a command ended.
public struct CommandResult: Sendable, Equatable {
    /// The exit code, or nil when a signal ended it.
    public var exitCode: Int32?
    public var signal: Int32?
    /// The last lines it wrote (both streams, in order), for error messages.
    public var tail: [String]

    public init(exitCode: Int32?, signal: Int32?, tail: [String]) {
        self.exitCode = exitCode
        self.signal = signal
        self.tail = tail
    }

    public var succeeded: Bool { exitCode == 0 }
}

/// Why a command did not run to an exit code.
public enum CommandError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case launchFailed(String, reason: String)
    case timedOut(String, after: Duration)

    public var description: String {
        switch self {
        case .notFound(let name): "\(name) is not installed (not found on PATH)"
        case .launchFailed(let name, let reason): "\(name) could not be started: \(reason)"
        case .timedOut(let name, let after): "\(name) ran longer than \(after) and was killed"
        }
    }
}

/// The one way the builder runs external tools (qemu-img, losetup, mount, chroot, apt, ansible-playbook): output
/// streamed line by line as it comes, stdout and stderr read concurrently, a timeout, and cancellation that kills
/// the command's whole process group.
public protocol CommandRunner: Sendable {
    func run(_ command: Command, onLine: @escaping @Sendable (CommandOutputLine) async -> Void) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs `command` and returns its result, ignoring its output as it comes.
    public func run(_ command: Command) async throws -> CommandResult {
        try await run(command, onLine: { _ in })
    }

    /// Runs `command` and throws ``CommandFailure`` unless it exits 0; returns its standard output.
    @discardableResult
    public func output(_ command: Command) async throws -> String {
        let lines = LineCollector()
        let result = try await run(command) { line in if line.stream == .stdout { await lines.append(line.text) } }
        guard result.succeeded else { throw CommandFailure(command: command, result: result) }
        return await lines.text
    }
}

/// A command that ran and did not exit 0.
public struct CommandFailure: Error, CustomStringConvertible {
    public var command: Command
    public var result: CommandResult

    public var description: String {
        let how = result.exitCode.map { "exited with \($0)" } ?? "was killed by signal \(result.signal ?? 0)"
        return "\(command.executable) \(how)" + (result.tail.isEmpty ? "" : ": " + result.tail.suffix(5).joined(separator: " | "))
    }
}

actor LineCollector {
    private var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
    var text: String { lines.joined(separator: "\n") }
}
