import Foundation

/// A cloud-init NoCloud seed: an ISO 9660 volume labelled `cidata` holding `user-data` and `meta-data`
/// (cloud-init's documented layout), made with genisoimage.
struct NoCloudSeed {
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

    /// The boot test's user-data: a one-time user with a one-time key and password-less sudo, nothing else changed.
    /// JSON is YAML, so the key needs no escaping.
    static func verificationUser(publicKey: String) -> String {
        let user: [String: Any] = [
            "name": BootTest.user, "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/sh", "lock_passwd": true,
            "ssh_authorized_keys": [publicKey],
        ]
        let document: [String: Any] = ["users": [user], "preserve_hostname": true, "ssh_pwauth": false]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
        return "#cloud-config\n" + String(decoding: data, as: UTF8.self) + "\n"
    }
}
