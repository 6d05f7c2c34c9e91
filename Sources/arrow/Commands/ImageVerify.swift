import ArgumentParser
import ArrowBuilder
import ArrowClient
import NIOHTTP1
import ArrowProtocol
import Foundation

/// `arrow image verify`: the boot test on its own, on this host. It prints the checks' results and exits 1 when one
/// fails; it stores nothing (a verification kept with an image comes only from a builder's deployment phase, so no
/// person can mark an image verified by hand).
struct ImageVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Boot an image with QEMU on this host and run its checks (a built image's software and flags; any image's systemd state).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The image id, or with --file a local qcow2 file.") var image: String
    @Flag(help: "IMAGE is a local qcow2 file, not an image id.") var file = false
    @Option(help: "The roles directory whose checks apply (ARROW_ROLES_DIR; default ./imaging/roles).") var rolesDir: String?
    @Option(help: "kvm or tcg (default: KVM when it works, else TCG).") var accel: String?
    @Option(help: "Seconds to wait for SSH.") var bootTimeout = 600
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let roles = rolesDir ?? ProcessInfo.processInfo.environment["ARROW_ROLES_DIR"] ?? FileManager.default.currentDirectoryPath + "/imaging/roles"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("arrow-verify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var path = image
        var provenance: BuildProvenance?
        if !file {
            let client = try server.client()
            try await remote {
                path = scratch + "/image.qcow2"
                _ = try await client.downloadImage(id: image, to: path)
                // A built image's provenance names its software and flags, whose checks apply; other images get the
                // system's own checks only.
                if let object = try? await client.json(.GET, "/api/vm_images/\(try pathSegment(image))/contents"),
                   let data = try? JSONSerialization.data(withJSONObject: object) {
                    provenance = try? WireJSON.decoder().decode(BuildProvenance.self, from: data)
                }
            }
        }
        var settings = BootTest.Settings()
        if let accel, !["kvm", "tcg"].contains(accel) { throw ValidationError("--accel is kvm or tcg") }
        settings.accelerator = accel
        settings.bootTimeout = .seconds(max(30, bootTimeout))
        let checks = try VerificationPlan.checks(hostname: nil, software: provenance?.software ?? [], flags: provenance?.ansibleFlags ?? [:],
                                                 rolesDirectory: roles)
        let test = BootTest(runner: SubprocessRunner(), work: scratch + "/boot", settings: settings) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let verification: ImageVerification
        do {
            verification = try await test.run(image: path, checks: checks)
        } catch let failure as BuildFailure {
            FileHandle.standardError.write(Data("\(failure.code.rawValue): \(failure.message)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: try WireJSON.encoder().encode(verification), as: UTF8.self))
        } else if let object = try JSONSerialization.jsonObject(with: try WireJSON.encoder().encode(verification)) as? [String: Any] {
            print(ImageContentsView.verificationText(object))
        }
        if verification.status == .failed { throw ExitCode(1) }
    }
}
