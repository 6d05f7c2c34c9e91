import ArrowNetwork
import ArrowProtocol
import ArrowProxmox
import Foundation

/// The `proxmox` target: the artifact goes to the task's build server as a VM that stays (``ProxmoxDeployer``: upload,
/// create, start, guest agent, rollback on failure). A build that installs the VPN enrolls the VM at its first boot:
/// the one-off key and the enrollment settings go in a cloud-init `cicustom` user-data snippet, written to the build
/// server's snippets storage (which builders see as a directory), and removed — from the VM's configuration and the
/// storage — once the peer is found; the peer's id and overlay address are recorded. Failures are typed by stage:
/// `deploy_upload_failed`, `vm_create_failed`, `boot_timeout`, `vpn_enroll_failed`.
struct ProxmoxDeployment {
    let image: ImageConfigDocument
    let client: ClientConfigDocument
    let agentTimeout: Duration
    /// Where the build server's URL may lead (checked, then the connection pinned to the checked address).
    let addresses: OutboundAddressPolicy
    var enrollmentWait: Duration = .seconds(180)
    let log: @Sendable (String) async -> Void

    func run(artifact: String, sha256: String, enrollment: Enrollment? = nil) async throws -> DeploymentRecord {
        let placed: Placed
        do {
            placed = try await place(artifact: artifact, sha256: sha256, enrollment: enrollment)
        } catch {
            // The key is revoked, and a VM that enrolled before the deployment failed leaves no peer behind.
            _ = await enrollment?.finish(keepPeer: false, log: log)
            throw error
        }
        defer { placed.release() }
        let deployed = placed.deployed
        var record = DeploymentRecord(target: "proxmox", buildServerId: placed.target.id, node: deployed.node, vmid: deployed.vmid,
                                      addresses: deployed.addresses, deployedAt: Date().ISO8601Format())
        guard let enrollment else { return record }
        let (_, peer) = await enrollment.finishWithPeer(keepPeer: true, wait: enrollment.api == nil ? .zero : enrollmentWait, log: log)
        // The snippet served its first boot: later starts must not need it, and the key must not stay on the storage.
        do {
            try await placed.client.updateConfig(node: deployed.node, vmid: deployed.vmid, [("delete", "cicustom")])
            await log("cicustom removed from VM \(deployed.vmid); the snippet is deleted")
        } catch {
            await log("could not remove cicustom from VM \(deployed.vmid): \(error)")
        }
        if enrollment.api != nil {
            guard let peer else {
                await placed.deployer.undo(deployed, placement: placed.placement)
                throw BuildFailure(.vpnEnrollFailed, "VM \(deployed.vmid) did not register with NetBird as \(enrollment.peerName) within \(enrollmentWait)",
                                   log: "deploy")
            }
            record.netbirdPeerId = peer.id
            record.netbirdIp = peer.ip
        }
        return record
    }

    /// A VM made on the build server, and what made it (released when the deployment is done with it).
    struct Placed {
        let target: ProxmoxTarget
        let client: ProxmoxClient
        let deployer: ProxmoxDeployer
        let placement: ProxmoxDeployer.Placement
        let deployed: ProxmoxDeployer.Deployed
        let snippet: String?

        func release() {
            if let snippet { try? FileManager.default.removeItem(atPath: snippet) }
            let client = client
            Task { await client.shutdown() }
        }
    }

    /// Connects, writes the enrollment's snippet, and deploys; on failure nothing it made is left (the deployer
    /// rolls the VM back; the snippet and the connection go here).
    func place(artifact: String, sha256: String, enrollment: Enrollment?) async throws -> Placed {
        guard let target = image.proxmox else {
            throw BuildFailure(.configInvalid, "the task deploys to Proxmox VE but its configuration names no build server", log: "deploy")
        }
        let address: IPAddress?
        switch await addresses.decide(url: target.url) {
        case .connect(let checked): address = checked
        case .refused(let reason): throw BuildFailure(.configInvalid, "build server \(target.id): \(reason)", log: "deploy")
        case .unresolved(let reason): throw BuildFailure(.deployUploadFailed, "build server \(target.id): \(reason)", log: "deploy")
        }
        let proxmox: ProxmoxClient
        do {
            proxmox = try await ProxmoxClient.connect(baseURL: target.url, authentication: .token(id: target.tokenId, secret: target.tokenSecret),
                                                      caPEM: target.caPem, fingerprint: target.tlsFingerprint, connectTo: address?.description)
        } catch {
            throw BuildFailure(.deployUploadFailed, "build server \(target.id): TLS: \(error)", log: "deploy")
        }
        var snippet: String?
        do {
            await log("Proxmox VE: build server \(target.id) (\(target.url), node \(target.node), as \(target.tokenId))")
            let deployer = ProxmoxDeployer(client: proxmox, agentTimeout: agentTimeout, keepOnFailure: image.keepOnFailure ?? false, log: log)
            let placement = ProxmoxDeployer.Placement(node: target.node, importStorage: target.importStorage, diskStorage: target.diskStorage,
                                                      bridge: target.bridge, vlan: target.vlan)
            var machine = machine()
            if let enrollment {
                let (volume, path) = try writeSnippet(enrollment, target: target)
                machine.userDataSnippet = volume
                snippet = path
                await log("NetBird: the one-off key goes to the VM at first boot in the cloud-init snippet \(volume), as \(enrollment.peerName)")
            }
            let deployed: ProxmoxDeployer.Deployed
            do {
                deployed = try await deployer.deploy(artifact: artifact, sha256: sha256, baseName: "arrow-\(image.taskId.prefix(12))-\(image.hostname)",
                                                     placement: placement, machine: machine)
            } catch let failure as ProxmoxDeployer.Failure {
                await log("deployment failed at \(failure.stage.rawValue): \(failure.message)")
                let code: BuildFailure.Code = switch failure.stage {
                case .upload: .deployUploadFailed
                case .create, .start: .vmCreateFailed
                case .agent: .bootTimeout
                }
                throw BuildFailure(code, "Proxmox VE (\(target.id)): \(failure.message)", log: "deploy")
            }
            return Placed(target: target, client: proxmox, deployer: deployer, placement: placement, deployed: deployed, snippet: snippet)
        } catch {
            if let snippet { try? FileManager.default.removeItem(atPath: snippet) }
            Task { await proxmox.shutdown() }
            throw error
        }
    }

    /// The user-data snippet, 0600, in the build server's snippets directory; returns its volume id and path.
    func writeSnippet(_ enrollment: Enrollment, target: ProxmoxTarget) throws -> (String, String) {
        guard let storage = target.snippetsStorage, let directory = target.snippetsDirectory else {
            throw BuildFailure(.vpnEnrollFailed, "build server \(target.id) has no snippets storage, so the NetBird key cannot reach the VM at first boot: "
                + "register it with snippets_storage and snippets_directory (a storage with snippets content that builders mount)", log: "deploy")
        }
        let name = "arrow-\(image.taskId.prefix(12).filter { $0.isLetter || $0.isNumber || $0 == "-" })-user.yaml"
        let path = directory + "/" + name
        let content = NoCloudSeed.firstBoot(files: enrollment.files)
        guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BuildFailure(.vpnEnrollFailed, "cannot write the cloud-init snippet into \(directory) (build server \(target.id)'s snippets directory)", log: "deploy")
        }
        return ("\(storage):snippets/\(name)", path)
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
