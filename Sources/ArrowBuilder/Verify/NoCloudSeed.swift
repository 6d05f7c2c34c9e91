import Foundation

/// A cloud-init NoCloud seed: an ISO 9660 volume labelled `cidata` holding `user-data` and `meta-data`
/// (cloud-init's documented layout), made with genisoimage.
public struct NoCloudSeed {
    var userData: String
    var instanceID: String

    func write(to path: String, runner: any CommandRunner) async throws {
        let directory = path + ".d"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try userData.write(toFile: directory + "/user-data", atomically: true, encoding: .utf8)
        // No local-hostname: the image keeps the host name its build gave it (a check reads it).
        try "instance-id: \(instanceID)\n".write(toFile: directory + "/meta-data", atomically: true, encoding: .utf8)
        do {
            try await runner.output(Command("genisoimage", ["-quiet", "-output", path, "-volid", "cidata", "-joliet", "-rock",
                                                            directory + "/user-data", directory + "/meta-data"]))
        } catch {
            throw BuildFailure(.deployFailed, "making the cloud-init seed: \(error)", log: "deploy")
        }
    }

    /// A file cloud-init writes at first boot (`write_files`), root's only: how a secret such as a NetBird setup key
    /// reaches a machine without ever being in its image.
    public struct File: Sendable, Equatable {
        public var path: String
        public var content: String

        public init(path: String, content: String) {
            self.path = path
            self.content = content
        }
    }

    /// The boot test's user-data: a one-time user with a one-time key and password-less sudo, and `files`; nothing
    /// else changed. JSON is YAML, so no value needs escaping.
    static func verificationUser(publicKey: String, files: [File] = []) -> String {
        let user: [String: Any] = [
            "name": BootTest.user, "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/sh", "lock_passwd": true,
            "ssh_authorized_keys": [publicKey],
        ]
        return cloudConfig(["users": [user], "preserve_hostname": true, "ssh_pwauth": false], files: files)
    }

    /// A deployed VM's user-data (a Proxmox `cicustom` snippet): only `files`, the image's users and host name kept.
    static func firstBoot(files: [File]) -> String {
        cloudConfig(["preserve_hostname": true], files: files)
    }

    static func cloudConfig(_ base: [String: Any], files: [File]) -> String {
        var document = base
        if !files.isEmpty {
            document["write_files"] = files.map { ["path": $0.path, "content": $0.content, "permissions": "0600", "owner": "root:root"] }
        }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
        return "#cloud-config\n" + String(decoding: data, as: UTF8.self) + "\n"
    }
}
