import ArrowProtocol
import ArrowProxmox
import Foundation

/// The `proxmox` target: the artifact goes to the task's build server as a VM that stays (``ProxmoxDeployer``: upload,
/// create, start, guest agent, rollback on failure). Failures are typed by stage: `deploy_upload_failed`,
/// `vm_create_failed`, `boot_timeout`.
struct ProxmoxDeployment {
    let image: ImageConfigDocument
    let client: ClientConfigDocument
    let agentTimeout: Duration
    let log: @Sendable (String) async -> Void

    func run(artifact: String, sha256: String) async throws -> DeploymentRecord {
        guard let target = image.proxmox else {
            throw BuildFailure(.configInvalid, "the task deploys to Proxmox VE but its configuration names no build server", log: "deploy")
        }
        let proxmox: ProxmoxClient
        do {
            proxmox = try ProxmoxClient(baseURL: target.url, authentication: .token(id: target.tokenId, secret: target.tokenSecret), caPEM: target.caPem)
        } catch {
            throw BuildFailure(.configInvalid, "build server \(target.id): its CA certificate does not load (\(error))", log: "deploy")
        }
        defer { Task { await proxmox.shutdown() } }
        await log("Proxmox VE: build server \(target.id) (\(target.url), node \(target.node), as \(target.tokenId))")
        let deployer = ProxmoxDeployer(client: proxmox, agentTimeout: agentTimeout, keepOnFailure: image.keepOnFailure ?? false, log: log)
        let placement = ProxmoxDeployer.Placement(node: target.node, importStorage: target.importStorage, diskStorage: target.diskStorage,
                                                  bridge: target.bridge, vlan: target.vlan)
        do {
            let deployed = try await deployer.deploy(artifact: artifact, sha256: sha256, baseName: "arrow-\(image.taskId.prefix(12))-\(image.hostname)",
                                                     placement: placement, machine: machine())
            return DeploymentRecord(target: "proxmox", buildServerId: target.id, node: deployed.node, vmid: deployed.vmid, addresses: deployed.addresses,
                                    deployedAt: Date().ISO8601Format())
        } catch let failure as ProxmoxDeployer.Failure {
            let code: BuildFailure.Code = switch failure.stage {
            case .upload: .deployUploadFailed
            case .create, .start: .vmCreateFailed
            case .agent: .bootTimeout
            }
            throw BuildFailure(code, "Proxmox VE (\(target.id)): \(failure.message)", log: "deploy")
        }
    }

    /// The VM: named after the task's `vm_name` (else the host name), sized by `resource_allocation`, reachable with
    /// the organization's users' keys, addressed as its network settings say.
    func machine() -> VMParameters {
        let network = client.networkSettings
        var ipConfig = "ip=dhcp"
        if network?.mode == "static", let address = network?.address {
            ipConfig = "ip=\(address)" + (network?.gateway.map { ",gw=\($0)" } ?? "")
        }
        return VMParameters(
            name: image.vmName ?? image.hostname, cores: image.resourceAllocation?.cores ?? 2, memoryMB: image.resourceAllocation?.memoryMb ?? 2048,
            tags: ["arrow", "arrow-" + image.organizationId], description: "arrow-imaging build \(image.taskId) of image \(image.imageId)",
            sshKeys: (client.users ?? []).flatMap { $0.sshAuthorizedKeys ?? [] }, ipConfig: ipConfig, nameservers: network?.dns ?? [])
    }
}
