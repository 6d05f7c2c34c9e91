import ArrowApp
@testable import ArrowBuilds
import ArrowCore
import ArrowDatabase
import ArrowProtocol
import ArrowTesting
import Foundation
import Testing

/// ClientConfig storage and the lease-gated builder reads, on both databases.
@Suite struct BuildConfigTests {
    static let setupKey = "NB-SETUP-KEY-PLANTED-7f3a"
    static let hash = "$6$rounds=5000$plantedsalt$plantedhashvalue"

    static let body = #"""
    {"vpn_config": {"management_url": "https://netbird.example.org", "setup_key": "NB-SETUP-KEY-PLANTED-7f3a"},
     "network_settings": {"hostname": "lab-01", "mode": "static", "address": "10.1.0.5/24", "gateway": "10.1.0.1", "dns": ["10.1.0.1"]},
     "branding": {"motd": "Welcome to Alpha", "primary_color": "#003366"},
     "default_software": [{"name": "htop"}],
     "users": [{"name": "operator", "password_hash": "$6$rounds=5000$plantedsalt$plantedhashvalue",
                "ssh_authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator@example"], "sudo": true}],
     "timezone": "Europe/Berlin"}
    """#

    @Test(arguments: TestBackend.allCases)
    func adminsWriteAndReadWithoutSecretsWhichAreSealedAtRest(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { f, _ in
            let configs = f.backends.builds.configs
            let empty = try await configs.view(organization: f.alpha.id.rawValue, principal: f.admin)
            #expect(empty.revision == 0 && empty.secretsSet.isEmpty)

            let saved = try await configs.update(organization: f.alpha.id.rawValue, body: Data(Self.body.utf8), ifMatch: 0, principal: f.admin)
            #expect(saved.revision == 1)
            #expect(saved.secretsSet == ["users[operator].password_hash", "vpn_config.setup_key"])
            #expect(saved.config.vpnConfig?.setupKey == nil && saved.config.users?.first?.passwordHash == nil)
            #expect(saved.config.users?.first?.sudo == true && saved.config.networkSettings?.address == "10.1.0.5/24")

            // At rest: sealed, neither secret in the row.
            let row = try #require(try await f.store.repositories.clientConfigs.find(organization: f.alpha.id))
            #expect(!row.document.contains(Self.setupKey) && !row.document.contains("plantedhashvalue"))
            #expect(row.document.contains("sealed:v1:"))

            // A write that leaves the secrets out keeps them; one based on an old revision is refused.
            let noSecrets = #"{"vpn_config": {"management_url": "https://nb2.example.org"}, "users": [{"name": "operator"}]}"#
            let kept = try await configs.update(organization: f.alpha.id.rawValue, body: Data(noSecrets.utf8), ifMatch: 1, principal: f.admin)
            #expect(kept.revision == 2 && kept.secretsSet.count == 2 && kept.config.branding == nil)
            let stale = await #expect(throws: ArrowError.self) {
                try await configs.update(organization: f.alpha.id.rawValue, body: Data(noSecrets.utf8), ifMatch: 1, principal: f.admin)
            }
            #expect(stale?.reason == "revision_mismatch")

            // Errors name the field; none echoes a secret.
            let unknown = await #expect(throws: ArrowError.self) {
                try await configs.update(organization: f.alpha.id.rawValue, body: Data(#"{"vpn_config": {"setup_kee": "x"}}"#.utf8), ifMatch: nil, principal: f.admin)
            }
            #expect(unknown?.reason == "unknown_client_config_field" && unknown?.message.contains("vpn_config.setup_kee") == true)

            // Organization and role: another organization's admin sees nothing; a member may not read.
            let foreign = await #expect(throws: ArrowError.self) { try await configs.view(organization: f.alpha.id.rawValue, principal: f.betaAdmin) }
            #expect(foreign?.code == .notFound)
            let member = try await f.member(of: f.alpha)
            let refused = await #expect(throws: ArrowError.self) { try await configs.view(organization: f.alpha.id.rawValue, principal: member) }
            #expect(refused?.reason == "missing_permission")
            let builder = await #expect(throws: ArrowError.self) { try await configs.view(organization: f.alpha.id.rawValue, principal: f.builder) }
            #expect(builder?.code == .forbidden)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func onlyTheBuilderHoldingALiveLeaseReadsSecretsAndTheImageConfig(_ backend: TestBackend) async throws {
        try await QueueFixture.with(backend) { f, queue in
            let configs = f.backends.builds.configs
            _ = try await configs.update(organization: f.alpha.id.rawValue, body: Data(Self.body.utf8), ifMatch: nil, principal: f.admin)
            let image = try await f.image(f.alpha)
            let options = BuildOptions(software: [SoftwareItem(name: "nmap", ansibleRole: "security-tools")], ansibleFlags: ["harden_ssh": true])
            _ = try await f.backends.builds.trigger.triggerManual(
                ManualBuildRequest(imageId: image.rawValue, buildType: "vm", vmName: "lab-vm"), options: options, principal: f.admin)
            let claim = try #require(try await queue.claim(ClaimRequest(builder: QueueFixture.registration()), principal: f.builder))
            let lease = BuildConfigs.PresentedLease(taskID: claim.task.id, attempt: claim.lease.attempt, token: claim.lease.token)

            let client = try await configs.clientConfig(organization: f.alpha.id.rawValue, lease: lease, principal: f.builder)
            #expect(client.config.vpnConfig?.setupKey == Self.setupKey)
            #expect(client.config.users?.first?.passwordHash == Self.hash)

            let imageConfig = try await configs.imageConfig(task: claim.task.id, lease: lease, principal: f.builder)
            #expect(imageConfig.software.map(\.name) == ["htop", "nmap"])
            #expect(imageConfig.ansibleFlags["harden_ssh"] == true && imageConfig.hostname == "lab-01")
            #expect(imageConfig.baseImage.id == image.rawValue && !imageConfig.baseImage.downloadUrl.isEmpty)
            #expect(imageConfig.attempt == claim.lease.attempt && imageConfig.configurationHash.count == 64)

            func refusal(_ lease: BuildConfigs.PresentedLease, org: String? = nil, principal: Principal? = nil) async -> String? {
                do {
                    _ = try await configs.clientConfig(organization: org ?? f.alpha.id.rawValue, lease: lease, principal: principal ?? f.builder)
                    return nil
                } catch let error as ArrowError { return error.reason ?? error.code.description } catch { return "\(error)" }
            }
            var wrongToken = lease
            wrongToken.token = String(repeating: "0", count: 64)
            #expect(await refusal(wrongToken) == "lease_required")
            var wrongAttempt = lease
            wrongAttempt.attempt += 1
            #expect(await refusal(wrongAttempt) == "lease_required")
            #expect(await refusal(BuildConfigs.PresentedLease(taskID: nil, attempt: 1, token: lease.token)) == "lease_required")
            #expect(await refusal(lease, org: f.beta.id.rawValue) == "lease_required", "a lease on alpha's task does not open beta's config")
            #expect(await refusal(lease, principal: f.betaBuilder) == "lease_required", "another organization's builder")
            #expect(await refusal(lease, principal: f.admin) == "missing_permission", "people never get the secrets")
            let otherTask = await #expect(throws: ArrowError.self) {
                try await configs.imageConfig(task: BuildTaskID.generate().rawValue, lease: lease, principal: f.builder)
            }
            #expect(otherTask?.reason == "lease_required")

            // Once the attempt ends, its lease opens nothing.
            _ = try await queue.report(claim.report(.failed, code: "ansible_failed"), principal: f.builder)
            #expect(await refusal(lease) == "lease_required")
        }
    }
}

extension QueueFixture {
    /// A member (no org.admin, no build.trigger) of `organization`.
    func member(of organization: Organization) async throws -> Principal {
        let email = "member-\(UUID().uuidString.prefix(6).lowercased())@\(organization.name).io"
        _ = try await backends.identity.createUser(organization: organization.id, email: email, name: nil, password: "password1", role: .member, actor: nil)
        return try await backends.identity.authenticate(secret: try await backends.identity.login(email: email, password: "password1").secret)
    }
}
