import ArgumentParser
import ArrowClient
import Foundation
import NIOHTTP1

extension ArrowCommand {
    /// `arrow deploy IMAGE --target qemu|proxmox [--server ID]`: a deployment outside a build, run by a builder.
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deploy an image as it is: boot and check it on a builder host (qemu) or make it a VM on a build server (proxmox); prints the task id.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The image to deploy (of your organization).") var image: String
        @Option(help: "qemu or proxmox.") var target: String
        @Option(name: .customLong("server"), help: "With proxmox: the build server (default: the organization's).") var buildServer: String?
        @Option(help: "Name of the VM.") var vmName: String?
        @Flag(help: "A failed Proxmox deployment keeps its VM and upload for inspection.") var keepOnFailure = false
        @Flag(help: "Follow the task until it ends; exits 1 unless it succeeded.") var watch = false

        func validate() throws {
            guard ["qemu", "proxmox"].contains(target) else { throw ValidationError("--target must be qemu or proxmox") }
        }

        func run() async throws {
            var body: [String: Any] = ["target": target]
            if let buildServer { body["build_server_id"] = buildServer }
            if let vmName { body["vm_name"] = vmName }
            if keepOnFailure { body["keep_on_failure"] = true }
            let client = try server.client()
            var taskID = ""
            try await remote {
                let answer = try await client.json(.POST, "/api/vm_images/\(try pathSegment(image))/deploy", body: body) as? [String: Any]
                taskID = (answer?["tasks"] as? [[String: Any]])?.first?["id"] as? String ?? ""
                print(taskID)
            }
            if watch {
                var arguments = ["--watch", taskID]
                if let api = server.api { arguments += ["--api", api] }
                if let token = server.token { arguments += ["--token", token] }
                var show = try Build.Show.parse(arguments)
                try await show.run()
            }
        }
    }
}
