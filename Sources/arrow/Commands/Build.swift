import ArgumentParser
import ArrowClient
import Foundation
import NIOHTTP1

extension ArrowCommand {
    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trigger, list, watch, retry and cancel builds, and read their logs.",
            subcommands: [Trigger.self, List.self, Show.self, Retry.self, Cancel.self, Logs.self, Failures.self])
    }

    struct Builders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered builders: name, version, what they build, current task, last seen.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try server.client()
            try await remote {
                let items = (try await client.json(.GET, "/api/builders") as? [String: Any])?["items"] as? [[String: Any]] ?? []
                if json { return try printJSON(items) }
                for builder in items {
                    print([builder["name"] as? String ?? "?", builder["version"] as? String ?? "?",
                           (builder["device_types"] as? [String] ?? []).joined(separator: ","),
                           builder["current_task_id"] as? String ?? "idle", "last seen \(builder["last_seen_at"] as? String ?? "?")"]
                        .joined(separator: "\t"))
                }
            }
        }
    }

    struct DeviceRequest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "device-request", abstract: "The ARROW platform's device requests and their builds.",
            subcommands: [DeviceRequestList.self, DeviceRequestShow.self])
    }

    struct DeviceRequestList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Device requests, newest first.")
        @OptionGroup var server: ServerOptions
        @Option(help: "pending, imaging, ready, failed or canceled.") var status: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try server.client()
            try await remote {
                let path = "/api/device-requests" + (status.map { "?status=\(query($0))" } ?? "")
                let items = (try await client.json(.GET, path) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                if json { return try printJSON(items) }
                for item in items {
                    print([item["id"] as? String ?? "?", item["status"] as? String ?? "?", item["device_type"] as? String ?? "?",
                           item["client"] as? String ?? "", "\((item["image_ids"] as? [String])?.count ?? 0) image(s)"].joined(separator: "\t"))
                }
            }
        }
    }

    struct DeviceRequestShow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A device request with its tasks.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The device request id.") var id: String

        func run() async throws {
            let client = try server.client()
            try await remote { try printJSON(try await client.json(.GET, "/api/device-requests/\(query(id))") ?? [:]) }
        }
    }
}

extension ArrowCommand.Build {
    struct Trigger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a build of one image (POST /api/vm-build/trigger); prints the task id.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The image to build.") var image: String
        @Option(help: "pvm or vm.") var buildType = "vm"
        @Option(help: "Only this build server may run it.") var buildServer: String?
        @Option(help: "The client the device is for.") var client: String?
        @Option(help: "Superusers: the organization the build is for.") var organization: String?
        @Option(help: "Name of the VM to create.") var vmName: String?
        @Option(help: "Description.") var description: String?
        @Option(help: "build_options as a JSON object, e.g. '{\"ansible_flags\":{\"harden_ssh\":true}}'.") var options: String?
        @Flag(help: "Notify me when it finishes.") var notify = false

        func run() async throws {
            var body: [String: Any] = ["image_id": image, "build_type": buildType, "notify_on_complete": notify]
            if let buildServer { body["build_server_id"] = buildServer }
            if let client { body["client_id"] = client }
            if let organization { body["organization_id"] = organization }
            if let vmName { body["vm_name"] = vmName }
            if let description { body["description"] = description }
            if let options {
                guard let object = try? JSONSerialization.jsonObject(with: Data(options.utf8)) else {
                    throw ValidationError("--options must be a JSON object")
                }
                body["build_options"] = object
            }
            let api = try server.client()
            try await remote {
                let answer = try await api.json(.POST, "/api/vm-build/trigger", body: body) as? [String: Any]
                for task in answer?["tasks"] as? [[String: Any]] ?? [] { print(task["id"] as? String ?? "?") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build tasks, newest first: id, status, phase, progress, attempt, image.")
        @OptionGroup var server: ServerOptions
        @Option(help: "queued, running, succeeded, failed or canceled.") var status: String?
        @Option(help: "Only builds of this image.") var image: String?
        @Option(help: "Only builds of this device request.") var deviceRequest: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var parameters: [String] = []
            if let status { parameters.append("status=\(query(status))") }
            if let image { parameters.append("image_id=\(query(image))") }
            if let deviceRequest { parameters.append("device_request_id=\(query(deviceRequest))") }
            let client = try server.client()
            try await remote {
                let path = "/api/vm-build/tasks" + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
                let items = (try await client.json(.GET, path) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                if json { return try printJSON(items) }
                for task in items { print(BuildView.line(task)) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task's status, phase and progress; --watch follows it until it ends.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The task id.") var id: String
        @Flag(help: "Redraw every 2 seconds until the task has finished; exits 1 unless it succeeded.") var watch = false
        @Option(help: "With --watch: the last N lines of the running phase's log under the status.") var tail = 0
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try server.client()
            try await remote {
                // Watching: the task in full at the start and at the end; in between, a line when its phase or
                // progress moves, and the log lines that are new since the last look.
                var first = true, lastState = "", shown: [String] = []
                while true {
                    let task = try await client.json(.GET, "/api/vm-build/tasks/\(query(id))") as? [String: Any] ?? [:]
                    let status = task["status"] as? String ?? ""
                    let running = status == "queued" || status == "running"
                    if json {
                        try printJSON(task)
                    } else if first || !watch || !running {
                        print(BuildView.detail(task))
                    } else if BuildView.line(task) != lastState {
                        print(BuildView.progressLine(task))
                    }
                    lastState = BuildView.line(task)
                    first = false
                    if watch, tail > 0, !json, running, let lines = try? await BuildView.logTail(client, task: task, lines: tail) {
                        let fresh = lines.count > shown.count || lines != shown ? BuildView.unseen(lines, after: shown) : []
                        if !fresh.isEmpty { print(fresh.map { "  │ " + $0 }.joined(separator: "\n")) }
                        shown = lines
                    }
                    guard watch, running else {
                        if watch, status != "succeeded" { throw ExitCode(1) }
                        return
                    }
                    try await Task.sleep(for: .seconds(2))
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a failed or canceled task again, resuming after its last completed phase.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The task id.") var id: String
        @Flag(help: "Start over from the first phase.") var fresh = false

        func run() async throws {
            let client = try server.client()
            try await remote {
                let task = try await client.json(.POST, "/api/vm-build/tasks/\(query(id))/retry" + (fresh ? "?fresh=true" : "")) as? [String: Any] ?? [:]
                print(BuildView.line(task))
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running task (its builder stops at its next heartbeat).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The task id.") var id: String

        func run() async throws {
            let client = try server.client()
            try await remote { print(BuildView.line(try await client.json(.POST, "/api/vm-build/tasks/\(query(id))/cancel") as? [String: Any] ?? [:])) }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one of a task's logs; --follow prints new lines as they come until the task ends.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The task id.") var id: String
        @Option(help: "download, ansible, deploy or summary.") var file = "summary"
        @Flag(help: "Keep printing new lines until the task ends.") var follow = false

        func run() async throws {
            let client = try server.client()
            let name = file.hasSuffix(".log") ? file : file + ".log"
            try await remote {
                let path = "/api/build-logs/proxy?task=\(query(id))&file=\(query(name))"
                if !follow {
                    for try await line in client.lines(path) { print(line) }
                    return
                }
                var ending = false
                for try await line in client.lines(path + "&follow=true") {
                    if line.hasPrefix("data: ") {
                        if ending {
                            FileHandle.standardError.write(Data("task \(line.dropFirst(6))\n".utf8))
                        } else {
                            FileHandle.standardOutput.write(Data((line.dropFirst(6) + "\n").utf8))
                        }
                    } else if line == "event: end" {
                        ending = true
                    }
                }
            }
        }
    }
}

/// How the CLI prints tasks.
enum BuildView {
    static func line(_ task: [String: Any]) -> String {
        [task["id"] as? String ?? "?", task["status"] as? String ?? "?", task["phase"] as? String ?? "-",
         "\(task["progress"] as? Int ?? 0)%", "attempt \(task["attempt"] as? Int ?? 0)", task["image_id"] as? String ?? "?",
         task["error_code"] as? String ?? ""].joined(separator: "\t")
    }

    /// One line for a watched task: time, status, phase and progress.
    static func progressLine(_ task: [String: Any]) -> String {
        let progress = task["progress"] as? Int ?? 0
        let bar = String(repeating: "█", count: progress / 5) + String(repeating: "░", count: 20 - progress / 5)
        let time = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        return "\(time)  \(task["status"] as? String ?? "?") · \(task["phase"] as? String ?? "-")  \(bar) \(progress)%"
    }

    /// The lines of `lines` that come after the overlap with `previous` (two tails of one growing log).
    static func unseen(_ lines: [String], after previous: [String]) -> [String] {
        for overlap in stride(from: min(lines.count, previous.count), through: 1, by: -1)
        where Array(previous.suffix(overlap)) == Array(lines.prefix(overlap)) {
            return Array(lines.dropFirst(overlap))
        }
        return lines
    }

    /// The last `lines` lines of the log the task's current phase writes.
    static func logTail(_ client: APIClient, task: [String: Any], lines: Int) async throws -> [String] {
        let files = ["preparation": "download", "customization": "ansible", "finalization": "summary", "deployment": "deploy"]
        guard let id = task["id"] as? String, let file = files[task["phase"] as? String ?? "preparation"] else { return [] }
        var all: [String] = []
        for try await line in client.lines("/api/build-logs/proxy?task=\(query(id))&file=\(file).log") { all.append(line) }
        return Array(all.suffix(lines))
    }

    static func detail(_ task: [String: Any]) -> String {
        let progress = task["progress"] as? Int ?? 0
        let bar = String(repeating: "█", count: progress / 5) + String(repeating: "░", count: 20 - progress / 5)
        var lines = [
            "task      \(task["id"] as? String ?? "?")",
            "status    \(task["status"] as? String ?? "?")\(task["phase"].map { " · \($0)" } ?? "")",
            "progress  \(bar) \(progress)%",
            "attempt   \(task["attempt"] as? Int ?? 0)   done: \((task["completed_phases"] as? [String] ?? []).joined(separator: ", "))",
            "image     \(task["image_id"] as? String ?? "?")   \(task["device_type"] as? String ?? "")",
        ]
        if let code = task["error_code"] as? String { lines.append("error     \(code): \(task["error_message"] as? String ?? "")") }
        if let artifact = task["artifact_image_id"] as? String { lines.append("artifact  \(artifact)") }
        if let builder = task["builder_id"] as? String { lines.append("builder   \(builder)") }
        let timings = task["phase_timings"] as? [[String: Any]] ?? []
        if !timings.isEmpty { lines.append("phases") }
        for timing in timings {
            let seconds = (timing["seconds"] as? NSNumber)?.doubleValue ?? 0
            let running = timing["finished_at"] == nil ? " (running)" : ""
            lines.append("  #\(timing["attempt"] as? Int ?? 0) \((timing["phase"] as? String ?? "?").padding(toLength: 14, withPad: " ", startingAt: 0)) \(String(format: "%8.1f s", seconds))\(running)")
        }
        if let logs = task["logs"] as? [String: String], !logs.isEmpty {
            lines.append("logs      arrow build logs \(task["id"] as? String ?? "?") --file download|ansible|deploy|summary")
            for name in ["download.log", "ansible.log", "deploy.log", "summary.log"] { if let url = logs[name] { lines.append("  \(url)") } }
        }
        return lines.joined(separator: "\n")
    }
}

/// A value for a URL query or path segment.
func query(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
}
