import Foundation

/// A mounted image's root file system, and the only ways the builder touches it: commands run inside it through
/// the chroot helper, and files written and read from inside it, so a symlink planted in a base image can never
/// point a write at the builder host's own files.
public struct ImageRoot: Sendable {
    /// The mount point on the host.
    public let path: String
    let runner: any CommandRunner
    /// The `arrow` binary, which carries the chroot helper (`internal-chroot`).
    let helper: String
    /// Host directories bound into the image for every command (the package cache).
    let binds: [(host: String, guest: String)]
    let log: @Sendable (String) async -> Void

    public init(path: String, runner: any CommandRunner, helper: String, binds: [(host: String, guest: String)] = [],
                log: @escaping @Sendable (String) async -> Void) {
        self.path = path
        self.runner = runner
        self.helper = helper
        self.binds = binds
        self.log = log
    }

    /// Runs `arguments` inside the image, every output line to the log; throws ``CommandFailure`` unless it exits 0.
    @discardableResult
    public func run(_ arguments: [String], input: String? = nil, timeout: Duration = .seconds(1800), quiet: Bool = false) async throws -> CommandResult {
        let command = chrootCommand(arguments, input: input, timeout: timeout)
        if !quiet { await log("$ " + Command(arguments[0], Array(arguments.dropFirst())).description) }
        let result = try await runner.run(command) { line in if !quiet { await log(line.text) } }
        guard result.succeeded else { throw CommandFailure(command: Command(arguments[0], Array(arguments.dropFirst())), result: result) }
        return result
    }

    /// Whether `arguments` exits 0 inside the image (output not logged).
    public func succeeds(_ arguments: [String]) async throws -> Bool {
        try await runner.run(chrootCommand(arguments, input: nil, timeout: .seconds(120))).succeeded
    }

    /// Standard output of `arguments` inside the image.
    public func output(_ arguments: [String]) async throws -> String {
        try await runner.output(chrootCommand(arguments, input: nil, timeout: .seconds(300)))
    }

    /// Writes `content` to `file` inside the image (atomically, mode `mode`).
    public func write(_ file: String, _ content: String, mode: String = "0644") async throws {
        let result = try await runner.run(Command(helper, ["internal-chroot", "--root", path, "--write", file, "--mode", mode], input: content))
        guard result.succeeded else { throw CommandFailure(command: Command("write", [file]), result: result) }
    }

    /// A file's text inside the image, or nil when it does not exist.
    public func read(_ file: String) async throws -> String? {
        // One `cat`: its output when it succeeds, nil when the file is not there.
        do {
            return try await output(["cat", "--", file])
        } catch is CommandFailure {
            return nil
        }
    }

    /// Whether `file` exists inside the image (following the image's own links).
    public func exists(_ file: String) async throws -> Bool {
        try await succeeds(["test", "-e", file])
    }

    func chrootCommand(_ arguments: [String], input: String?, timeout: Duration) -> Command {
        var helperArguments = ["internal-chroot", "--root", path]
        for (host, guest) in binds { helperArguments += ["--bind", "\(host):\(guest)"] }
        return Command(helper, helperArguments + ["--"] + arguments, timeout: timeout, input: input)
    }
}
