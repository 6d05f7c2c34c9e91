import ArrowProtocol
import Foundation

/// Phase 4 (`deploy.log`): where the artifact goes. `qemu` boots it on this host and runs its checks ("test before
/// production"); `proxmox` makes it a VM on the task's build server; `none` only stores it. A failed check ends the
/// task `verify_failed`, an image that never answers `boot_timeout`; either way the artifact stays stored with its
/// provenance and the checks' results.
struct Deployment {
    let run: BuildRun
    let log: TaskLog
    let workspace: Workspace
    let prepared: Prepared

    /// What the phase produced: the boot test's result and where the artifact now runs.
    struct Outcome {
        var verification: ImageVerification?
        var deployment: DeploymentRecord?
    }

    /// `artifact`: the qcow2 to deploy (this attempt's, or the one an earlier attempt stored), stored as `imageId`.
    func run(artifact: String, sha256: String, imageId: String) async throws -> Outcome {
        let image = prepared.image
        let say: @Sendable (String) async -> Void = { [log] line in await log.line(.deploy, line) }
        switch image.deploymentTarget {
        case "qemu":
            return Outcome(verification: try await bootTest(artifact, enroll: true, say: say))
        case "proxmox":
            // "Test before production": an organization that requires it gets its images booted and checked here first.
            var outcome = Outcome()
            if prepared.client.requireVerifiedImages == true {
                await say("the organization requires a passed verification before a Proxmox VE deployment: boot test first")
                let verification = try await bootTest(artifact, enroll: false, say: say)
                outcome.verification = verification
                guard verification.status == .passed else { return outcome }
            }
            // A VM that installs the VPN gets its own one-off key, delivered at first boot by a cicustom snippet.
            let enrollment = try await Enrollment.prepare(image: image, client: prepared.client, http: run.http)
            if let key = enrollment?.key?.key { await log.redact([key]) }
            outcome.deployment = try await ProxmoxDeployment(image: image, client: prepared.client, agentTimeout: run.settings.bootTest.bootTimeout,
                                                            addresses: run.settings.buildServerAddresses, log: say)
                .run(artifact: artifact, sha256: sha256, enrollment: enrollment)
            return outcome
        case "download":
            do {
                let url = try await run.api.publishArtifact(lease: run.lease, imageId: imageId)
                await say("published for download: \(url)")
                return Outcome(deployment: DeploymentRecord(target: "download", addresses: [url], deployedAt: Date().ISO8601Format()))
            } catch {
                throw BuildFailure(.deployUploadFailed, "publishing the artifact for download: \(error)", log: "deploy")
            }
        default:
            await say("deployment target \(image.deploymentTarget ?? "none"): the artifact is stored, nothing is booted")
            return Outcome()
        }
    }

    /// Boots the artifact on this host and runs its checks; with `enroll`, the VM also joins NetBird (and leaves it).
    func bootTest(_ artifact: String, enroll: Bool, say: @escaping @Sendable (String) async -> Void) async throws -> ImageVerification {
        let image = prepared.image
        var checks = try VerificationPlan.checks(hostname: image.hostname, software: image.software, flags: image.ansibleFlags,
                                                 rolesDirectory: run.settings.rolesDirectory)
        // From here to the boot test's end, a key made for this deployment is revoked on every path.
        let enrollment = enroll ? try await Enrollment.prepare(image: image, client: prepared.client, http: run.http) : nil
        if let enrollment {
            if let key = enrollment.key?.key { await log.redact([key]) }
            checks += Enrollment.checks
            await say("NetBird: " + (enrollment.key.map { "one-off setup key \($0.id) made; " } ?? "")
                + "the key goes to the VM through cloud-init at first boot, as \(enrollment.peerName)")
        }
        await say("boot test: \(checks.count) checks")
        var verification: ImageVerification
        do {
            verification = try await BootTest(runner: run.runner, work: workspace.root + "/boot", settings: run.settings.bootTest, log: say)
                .run(image: artifact, checks: checks, files: enrollment?.files ?? [])
        } catch {
            _ = await enrollment?.finish(keepPeer: false, log: say)
            throw error
        }
        // The local target's VM is gone after its test: its peer goes too.
        if let registered = await enrollment?.finish(keepPeer: false, log: say) {
            verification.checks.append(registered)
            if !registered.passed { verification.status = .failed }
        }
        // The results are kept with the image: no check's output may carry a secret the log would redact.
        for index in verification.checks.indices { verification.checks[index].output = await log.scrub(verification.checks[index].output) }
        let failed = verification.checks.filter { !$0.passed }.map(\.name)
        await say("verification \(verification.status.rawValue) (\(verification.accelerator), booted in \(String(format: "%.1f", verification.bootSeconds)) s)"
            + (failed.isEmpty ? "" : "; failed: " + failed.joined(separator: ", ")))
        return verification
    }
}
