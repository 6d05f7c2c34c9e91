import Foundation
import Subprocess
import SystemPackage

/// ``CommandRunner`` on swift-subprocess. Each command starts a session of its own, so its process group holds
/// everything it spawns (apt's dpkg, ansible's workers, a daemon a package started): a timeout or a cancellation
/// sends SIGTERM to the whole group, then SIGKILL three seconds later.
public struct SubprocessRunner: CommandRunner {
    /// Lines of output kept for ``CommandResult/tail``.
    static let tailLines = 40

    public init() {}

    public func run(_ command: Command, onLine: @escaping @Sendable (CommandOutputLine) async -> Void) async throws -> CommandResult {
        let executable: Executable = command.executable.hasPrefix("/") ? .path(FilePath(command.executable)) : .name(command.executable)
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(3)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1)),
        ]
        let environment = Environment.inherit.updating(Dictionary(uniqueKeysWithValues: command.environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) }))
        let tail = Tail(limit: Self.tailLines)
        let outcome: ExecutionResult<Bool, SequenceOutput, SequenceOutput>
        do {
            outcome = try await Subprocess.run(
                executable, arguments: Arguments(command.arguments), environment: environment,
                workingDirectory: command.workingDirectory.map { FilePath($0) }, platformOptions: options,
                input: .string(command.input ?? ""), output: .sequence, error: .sequence
            ) { execution in
                let stdout = execution.standardOutput, stderr = execution.standardError
                let teardown = options.teardownSequence, timeout = command.timeout
                return try await withThrowingTaskGroup(of: Event.self) { group in
                    group.addTask { try await Self.drain(stdout, .stdout, tail, onLine); return .drained }
                    group.addTask { try await Self.drain(stderr, .stderr, tail, onLine); return .drained }
                    if let timeout {
                        group.addTask {
                            // Canceled once both streams end: the command finished in time.
                            guard (try? await Task.sleep(for: timeout)) != nil else { return .timerStopped }
                            await execution.teardown(using: teardown)
                            return .timedOut
                        }
                    }
                    var timedOut = false
                    var drained = 0
                    while let event = try await group.next() {
                        switch event {
                        case .timedOut: timedOut = true
                        case .drained: drained += 1
                        case .timerStopped: break
                        }
                        if drained == 2 { group.cancelAll() }
                    }
                    return timedOut
                }
            }
        } catch let error as SubprocessError {
            if error.code == .executableNotFound { throw CommandError.notFound(command.executable) }
            throw CommandError.launchFailed(command.executable, reason: "\(error)")
        }
        if outcome.closureResult, let timeout = command.timeout { throw CommandError.timedOut(command.executable, after: timeout) }
        switch outcome.terminationStatus {
        case .exited(let code): return CommandResult(exitCode: code, signal: nil, tail: await tail.lines)
        case .signaled(let signal): return CommandResult(exitCode: nil, signal: signal, tail: await tail.lines)
        }
    }

    enum Event: Sendable { case drained, timedOut, timerStopped }

    static func drain(
        _ sequence: SubprocessOutputSequence, _ stream: CommandOutputLine.Stream, _ tail: Tail,
        _ onLine: @Sendable (CommandOutputLine) async -> Void
    ) async throws {
        for try await line in sequence.strings() {
            let text = line.hasSuffix("\n") ? String(line.dropLast()) : line
            await tail.append(text)
            await onLine(CommandOutputLine(stream, text))
        }
    }
}

/// The last lines a command wrote.
actor Tail {
    let limit: Int
    private(set) var lines: [String] = []

    init(limit: Int) { self.limit = limit }

    func append(_ line: String) {
        lines.append(line)
        if lines.count > limit { lines.removeFirst(lines.count - limit) }
    }
}
