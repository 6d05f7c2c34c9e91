@testable import ArrowBuilder
import Foundation
import Testing

/// The builder's one way to run tools: typed arguments, streamed lines, timeouts and cancellation that take the
/// whole process group with them.
@Suite struct CommandRunnerTests {
    let runner = SubprocessRunner()

    actor Lines {
        var all: [CommandOutputLine] = []
        func add(_ line: CommandOutputLine) { all.append(line) }
    }

    @Test func argumentsReachTheToolVerbatimNeverThroughAShell() async throws {
        let hostile = ["a; rm -rf /tmp/x", "$(id)", "`uname`", "it's \"quoted\"", "", "*"]
        let out = try await runner.output(Command("printf", ["%s\\n"] + hostile))
        #expect(out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) == hostile)
        #expect(Command("echo", ["a b", "c'd"]).description == #"echo 'a b' 'c'\''d'"#)
    }

    @Test func bothStreamsArriveLineByLineAndTheExitCodeIsKept() async throws {
        let lines = Lines()
        // Far more than a pipe buffer on both streams at once: reading one while the other fills would deadlock.
        let script = "i=0; while [ $i -lt 20000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; exit 3"
        let result = try await runner.run(Command("sh", ["-c", script])) { await lines.add($0) }
        #expect(result.exitCode == 3 && !result.succeeded)
        let all = await lines.all
        #expect(all.filter { $0.stream == .stdout }.count == 20000 && all.filter { $0.stream == .stderr }.count == 20000)
        #expect(all.first { $0.stream == .stdout }?.text == "out0")
        #expect(result.tail.count == SubprocessRunner.tailLines)
        let failure = await #expect(throws: CommandFailure.self) { try await runner.output(Command("sh", ["-c", "echo bad >&2; exit 2"])) }
        #expect(failure?.description == "sh exited with 2: bad")
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let lines = Lines()
        let started = ContinuousClock.now
        // The shell starts a grandchild and reports its pid; both must be gone after the timeout.
        let error = await #expect(throws: CommandError.self) {
            try await runner.run(Command("sh", ["-c", "sleep 300 & echo $!; wait"], timeout: .seconds(1))) { await lines.add($0) }
        }
        #expect(error == .timedOut("sh", after: .seconds(1)))
        // Seconds, not the grandchild's five minutes (generous: the full suite loads both cores).
        #expect(ContinuousClock.now - started < .seconds(90))
        let grandchild = try #require(await lines.all.first.flatMap { Int32($0.text) })
        #expect(await Self.gone(grandchild))
    }

    @Test func cancellingTheTaskKillsTheWholeProcessGroup() async throws {
        let lines = Lines()
        let running = Task { try await runner.run(Command("sh", ["-c", "sleep 300 & echo $!; wait"])) { await lines.add($0) } }
        var grandchild: Int32?
        for _ in 0..<100 where grandchild == nil {
            try await Task.sleep(for: .milliseconds(50))
            grandchild = await lines.all.first.flatMap { Int32($0.text) }
        }
        running.cancel()
        _ = await running.result
        #expect(await Self.gone(try #require(grandchild)))
    }

    @Test func aMissingToolIsNamed() async throws {
        let error = await #expect(throws: CommandError.self) { try await runner.run(Command("arrow-no-such-tool", [])) }
        #expect(error == .notFound("arrow-no-such-tool"))
        #expect(error?.description == "arrow-no-such-tool is not installed (not found on PATH)")
    }

    /// Whether `pid` has exited (a zombie awaiting its reaper counts), waiting up to 5 s.
    static func gone(_ pid: Int32) async -> Bool {
        for _ in 0..<100 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            if stat.split(separator: ")").last?.split(separator: " ").first == "Z" { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

extension CommandRunnerTests {
    @Test func aCommandThatEndsInTimeIsNotDisturbedByItsTimeout() async throws {
        let result = try await runner.run(Command("sh", ["-c", "echo done"], timeout: .seconds(30)))
        #expect(result.succeeded && result.tail == ["done"])
    }
}
