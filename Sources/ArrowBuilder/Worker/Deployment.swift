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
        let checks = try VerificationPlan.checks(hostname: image.hostname, software: image.software, flags: image.ansibleFlags,
                                                 rolesDirectory: run.settings.rolesDirectory)
        await say("boot test: \(checks.count) checks")
        let verification = try await BootTest(runner: run.runner, work: workspace.root + "/boot", settings: run.settings.bootTest, log: say)
            .run(image: workspace.artifact, checks: checks)
        let failed = verification.checks.filter { !$0.passed }.map(\.name)
        await say("verification \(verification.status.rawValue) (\(verification.accelerator), booted in \(String(format: "%.1f", verification.bootSeconds)) s)"
            + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: ", ")))
        return verification
    }
}
