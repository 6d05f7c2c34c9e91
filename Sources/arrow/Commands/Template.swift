import ArgumentParser
import ArrowClient
import Foundation
import NIOHTTP1

extension ArrowCommand {
    /// `arrow template create|list|show|update|run|runs|delete`: saved build definitions with schedules and promotion.
    struct TemplateCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "template", abstract: "Build templates: saved builds, rebuilt on a schedule or when their base image gets a new version.",
            subcommands: [Create.self, List.self, Show.self, Update.self, Run.self, Runs.self, Delete.self])

        /// The fields `create` and `update` send.
        struct Fields: ParsableArguments {
            @Option(help: "The template's name.") var name: String
            @Option(help: "The base image (a specific version).") var image: String
            @Flag(help: "Build from the newest version of the base image, and rebuild when a new one is uploaded.") var latest = false
            @Option(help: "pvm or vm.") var buildType = "vm"
            @Option(help: "Name of the VM to create.") var vmName: String?
            @Option(help: "The build server a proxmox target deploys to.") var buildServer: String?
            @Option(help: "build_options as a JSON object (software, ansible_flags, custom_scripts, resource_allocation, deployment_target…).") var options: String?
            @Option(help: "Rebuild on this cron schedule, e.g. '0 3 * * 1' or @weekly.") var schedule: String?
            @Option(help: "The time zone the schedule is read in (IANA name).") var timeZone = "UTC"
            @Flag(help: "Promote a new artifact only after its boot test passed.") var requireVerification = false
            @Flag(help: "A promoted artifact replaces the previous one among the organization's default images.") var promoteToDefault = false

            func body() throws -> [String: Any] {
                var body: [String: Any] = ["name": name, "base_image_id": image, "follow_latest": latest, "build_type": buildType,
                                           "time_zone": timeZone, "require_verification": requireVerification, "promote_to_default": promoteToDefault]
                if let vmName { body["vm_name"] = vmName }
                if let buildServer { body["build_server_id"] = buildServer }
                if let schedule { body["schedule"] = schedule }
                if let options {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(options.utf8)) else { throw ValidationError("--options must be a JSON object") }
                    body["build_options"] = object
                }
                return body
            }
        }

        static func path(_ organization: String, _ id: String? = nil, _ suffix: String = "") throws -> String {
            "/api/organizations/\(try pathSegment(organization))/build-templates" + (try id.map { "/\(try pathSegment($0))" } ?? "") + suffix
        }

        static func line(_ template: [String: Any]) -> String {
            [template["id"] as? String ?? "?", template["name"] as? String ?? "?", "r\(template["revision"] as? Int ?? 0)",
             "base \(template["base_image_id"] as? String ?? "?")" + ((template["follow_latest"] as? Bool ?? false) ? " (latest)" : ""),
             (template["schedule"] as? String).map { "schedule \($0) \(template["time_zone"] as? String ?? "")" } ?? "no schedule",
             (template["next_run_at"] as? String).map { "next \($0)" } ?? "",
             "version \(template["latest_artifact_id"] as? String ?? "none")"].joined(separator: "\t")
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Save a build definition; prints its id and next run.")
            @OptionGroup var server: ServerOptions
            @OptionGroup var fields: Fields
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let body = try fields.body()
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    let template = try await client.json(.POST, try TemplateCommand.path(org), body: body) as? [String: Any] ?? [:]
                    print(TemplateCommand.line(template))
                }
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Replace a template's fields (a new revision).")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The template's id.") var id: String
            @OptionGroup var fields: Fields
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let body = try fields.body()
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    print(TemplateCommand.line(try await client.json(.PUT, try TemplateCommand.path(org, id), body: body) as? [String: Any] ?? [:]))
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The organization's templates: id, name, revision, base, schedule, next run, current version.")
            @OptionGroup var server: ServerOptions
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    let items = (try await client.json(.GET, try TemplateCommand.path(org)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                    if json { return try printJSON(items) }
                    for item in items { print(TemplateCommand.line(item)) }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One template, as JSON.")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The template's id.") var id: String
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    try printJSON(try await client.json(.GET, try TemplateCommand.path(org, id)) ?? [:])
                }
            }
        }

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Build from the template now; prints the run and its task (watch it with arrow build show --watch).")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The template's id.") var id: String
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    let run = try await client.json(.POST, try TemplateCommand.path(org, id, "/run"), body: [String: Any]()) as? [String: Any] ?? [:]
                    print("run \(run["id"] as? String ?? "?") (revision \(run["revision"] as? Int ?? 0)): task \(run["task_id"] as? String ?? "?")")
                }
            }
        }

        struct Runs: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The template's runs, newest first: trigger, status (promoted, unchanged, not_promoted, failed), what changed.")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The template's id.") var id: String
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    let items = (try await client.json(.GET, try TemplateCommand.path(org, id, "/runs")) as? [String: Any])?["items"] as? [[String: Any]] ?? []
                    if json { return try printJSON(items) }
                    for run in items {
                        let diff = run["diff"] as? [String: Any]
                        let changes = diff.map { "+\(($0["added"] as? [Any])?.count ?? 0) -\(($0["removed"] as? [Any])?.count ?? 0) ~\(($0["changed"] as? [Any])?.count ?? 0)" } ?? ""
                        print([run["created_at"] as? String ?? "?", run["trigger"] as? String ?? "?", "r\(run["revision"] as? Int ?? 0)",
                               run["status"] as? String ?? "?", run["task_id"] as? String ?? "-", changes, run["message"] as? String ?? ""].joined(separator: "\t"))
                        for change in (diff?["changed"] as? [[String: Any]] ?? []).prefix(20) {
                            print("\t  \(change["name"] as? String ?? "?") \(change["from"] as? String ?? "?") → \(change["to"] as? String ?? "?")")
                        }
                    }
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a template and its run history (its artifacts stay).")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The template's id.") var id: String
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    _ = try await client.json(.DELETE, try TemplateCommand.path(org, id))
                    print("removed \(id)")
                }
            }
        }
    }

    /// `arrow build failures`: recent failures grouped by what failed.
    struct Failures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recent failed builds grouped by failure code, phase and (Ansible) failing role and task, with counts and log lines.")
        @OptionGroup var server: ServerOptions
        @Option(help: "How far back: seconds or 30m, 24h, 7d.") var window = "7d"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try server.client()
            try await remote {
                let report = try await client.json(.GET, "/api/vm-build/failures?window=\(query(window))") as? [String: Any] ?? [:]
                if json { return try printJSON(report) }
                let groups = report["groups"] as? [[String: Any]] ?? []
                print("\(report["failures"] as? Int ?? 0) failed builds since \(report["since"] as? String ?? "?") in \(groups.count) group(s)")
                for group in groups {
                    var what = [group["code"] as? String ?? "?", group["phase"] as? String].compactMap { $0 }.joined(separator: " in ")
                    if let task = group["ansible_task"] as? String {
                        what += ": " + ((group["role"] as? String).map { "\($0) : " } ?? "") + task
                    }
                    print("\(group["count"] as? Int ?? 0)×\t\(what)\tfirst \(group["first_seen"] as? String ?? "?")\tlast \(group["last_seen"] as? String ?? "?")")
                    for example in (group["examples"] as? [[String: Any]] ?? []).prefix(3) {
                        let line = (example["line"] as? Int).map { " line \($0)" } ?? ""
                        print("\t  task \(example["task_id"] as? String ?? "?"): \(example["log_file"] as? String ?? "no log")\(line)\t\(example["console_url"] as? String ?? "")")
                    }
                }
            }
        }
    }
}
