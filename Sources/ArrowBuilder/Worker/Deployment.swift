import ArrowProtocol
import Foundation

/// Phase 4 (`deploy.log`): where the artifact goes. `qemu` boots it on this host and runs its checks ("test before
/// production"); `none` only stores it. A failed check ends the task `verify_failed`, an image that never answers
/// `boot_timeout`; either way the artifact stays stored with its provenance and the checks' results.
struct Deployment {
    let run: BuildRun
    let log: TaskLog
    let workspace: Workspace
    let prepared: Prepared

    func run() async throws -> ImageVerification? {
        let image = prepared.image
        let say: @Sendable (String) async -> Void = { [log] line in await log.line(.deploy, line) }
        guard image.deploymentTarget == "qemu" else {
            await say("deployment target \(image.deploymentTarget ?? "none"): the artifact is stored, nothing is booted")
            return nil
        }
        let enrollment = Enrollment.files(image: image, client: prepared.client)
        var checks = try VerificationPlan.checks(hostname: image.hostname, software: image.software, flags: image.ansibleFlags,
                                                 rolesDirectory: run.settings.rolesDirectory)
        if !enrollment.isEmpty {
            checks += Enrollment.checks
            await say("NetBird: the setup key goes to the VM through cloud-init at first boot, as \(Enrollment.peerName(image))")
        }
        await say("boot test: \(checks.count) checks")
        var verification = try await BootTest(runner: run.runner, work: workspace.root + "/boot", settings: run.settings.bootTest, log: say)
            .run(image: workspace.artifact, checks: checks, files: enrollment)
        // The results are kept with the image: no check's output may carry the organization's secrets.
        let secrets = ([prepared.client.vpnConfig?.setupKey] + (prepared.client.users ?? []).map(\.passwordHash)).compactMap { $0 }.filter { $0.count >= 6 }
        for index in verification.checks.indices {
            for secret in secrets { verification.checks[index].output = verification.checks[index].output.replacingOccurrences(of: secret, with: "[redacted]") }
        }
        let failed = verification.checks.filter { !$0.passed }.map(\.name)
        await say("verification \(verification.status.rawValue) (\(verification.accelerator), booted in \(String(format: "%.1f", verification.bootSeconds)) s)"
            + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: ", ")))
        return verification
    }
}
