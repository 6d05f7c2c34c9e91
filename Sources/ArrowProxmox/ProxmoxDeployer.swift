import Foundation

/// One deployment of a qcow2 artifact to a PVE node: upload into `import` content (or the `iso` fallback of
/// external-apis.md §1.6), create the VM from it under a fresh id (again on a `nextid` race), start it, wait for the
/// guest agent and read the VM's addresses. Every PVE task is polled on the node its UPID names and its log copied
/// into the deployment's log. On any failure what was made is removed again — the VM stopped and destroyed, the
/// uploaded volume deleted — unless `keepOnFailure`.
public struct ProxmoxDeployer: Sendable {
    public struct Placement: Sendable, Equatable {
        public var node: String
        /// Where the upload goes (`import` content, or `iso` for the fallback).
        public var importStorage: String
        /// Where the VM's disk and cloud-init drive go (`images` content).
        public var diskStorage: String
        public var bridge: String
        public var vlan: Int?

        public init(node: String, importStorage: String, diskStorage: String, bridge: String = "vmbr0", vlan: Int? = nil) {
            self.node = node
            self.importStorage = importStorage
            self.diskStorage = diskStorage
            self.bridge = bridge
            self.vlan = vlan
        }
    }

    public struct Deployed: Sendable, Equatable {
        public var vmid: Int
        public var node: String
        public var addresses: [String]

        public init(vmid: Int, node: String, addresses: [String]) {
            self.vmid = vmid
            self.node = node
            self.addresses = addresses
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public enum Stage: String, Sendable { case upload, create, start, agent }
        public var stage: Stage
        public var message: String
        public var description: String { message }
    }

    let client: ProxmoxClient
    let log: @Sendable (String) async -> Void
    public var agentTimeout: Duration
    public var pollInterval: Duration
    public var keepOnFailure: Bool
    public var createAttempts = 5

    public init(client: ProxmoxClient, agentTimeout: Duration = .seconds(600), pollInterval: Duration = .seconds(2), keepOnFailure: Bool = false,
                log: @escaping @Sendable (String) async -> Void) {
        self.client = client
        self.agentTimeout = agentTimeout
        self.pollInterval = pollInterval
        self.keepOnFailure = keepOnFailure
        self.log = log
    }

    /// What this deployment made so far, for the rollback.
    actor Made {
        var volume: String?
        var vmid: Int?
        func set(volume: String) { self.volume = volume }
        func set(vmid: Int) { self.vmid = vmid }
    }

    public func deploy(artifact: String, sha256: String, baseName: String, placement: Placement, machine: VMParameters) async throws -> Deployed {
        let made = Made()
        do {
            let importFrom = try await upload(artifact: artifact, sha256: sha256, baseName: baseName, placement: placement, made: made)
            let vmid = try await create(placement: placement, machine: machine, importFrom: importFrom, made: made)
            await log("starting VM \(vmid)")
            try await stage(.start) { try await client.wait(try await client.startVM(node: placement.node, vmid: vmid), every: pollInterval, log: log) }
            let addresses = try await waitForAgent(node: placement.node, vmid: vmid)
            // The import copied the disk: the uploaded file is no longer needed.
            if let volume = await made.volume { await remove(volume: volume, placement: placement) }
            return Deployed(vmid: vmid, node: placement.node, addresses: addresses)
        } catch {
            await rollBack(made, placement: placement)
            throw error
        }
    }

    /// The upload's volume, as `import-from` takes it.
    func upload(artifact: String, sha256: String, baseName: String, placement: Placement, made: Made) async throws -> String {
        let storage = placement.importStorage
        let status = try await stage(.upload) { try await client.storageStatus(node: placement.node, storage: storage) }
        let name = Self.fileName(baseName)
        if status.content.contains("import") {
            // `.img` is not accepted for import: the artifact is qcow2 and is named so.
            let fileName = name + ".qcow2"
            await log("uploading \(fileName) into \(storage) (import content)")
            let upid = try await stage(.upload) {
                try await client.upload(.init(node: placement.node, storage: storage, content: "import", fileName: fileName, path: artifact, sha256: sha256))
            }
            await made.set(volume: "\(storage):import/\(fileName)")
            try await stage(.upload) { try await client.wait(upid, every: pollInterval, log: log) }
            return "\(storage):import/\(fileName)"
        }
        guard status.content.contains("iso") else {
            throw Failure(stage: .upload, message: "storage \(storage) has no import content (PVE 8.3.6 or later, with import enabled on the storage) and no iso content for the fallback")
        }
        // Older hosts: upload as an ISO-content `.img` and import from its absolute path, which PVE allows root@pam only.
        guard client.authenticatesAsRoot else {
            throw Failure(stage: .upload, message: "storage \(storage) has no import content; the fallback (iso upload plus an absolute import-from path) needs root@pam — enable import content on \(storage) instead")
        }
        guard let directory = try await stage(.upload, { try await client.storagePath(storage) }) else {
            throw Failure(stage: .upload, message: "storage \(storage) is not file-based; it cannot take the fallback upload")
        }
        let fileName = name + ".img"
        await log("storage \(storage) has no import content: uploading \(fileName) as iso content, imported from its path (root@pam)")
        let upid = try await stage(.upload) {
            try await client.upload(.init(node: placement.node, storage: storage, content: "iso", fileName: fileName, path: artifact, sha256: sha256))
        }
        await made.set(volume: "\(storage):iso/\(fileName)")
        try await stage(.upload) { try await client.wait(upid, every: pollInterval, log: log) }
        return directory + "/template/iso/" + fileName
    }

    /// Creates the VM under a fresh id; when another deployment took the id between `nextid` and the create, asks again.
    func create(placement: Placement, machine: VMParameters, importFrom: String, made: Made) async throws -> Int {
        for attempt in 1...createAttempts {
            let vmid = try await stage(.create) { try await client.nextID() }
            let form = machine.form(vmid: vmid, diskStorage: placement.diskStorage, importFrom: importFrom, bridge: placement.bridge, vlan: placement.vlan)
            await log("creating VM \(vmid) (\(VMParameters.dnsName(machine.name))) on \(placement.node)")
            let upid: UPID
            do {
                upid = try await client.createVM(node: placement.node, parameters: form)
            } catch let failure as ProxmoxClient.Failure where failure.message.contains("already exists") && attempt < createAttempts {
                await log("VM id \(vmid) was taken meanwhile (\(failure.message)); asking for another")
                continue
            } catch {
                throw Failure(stage: .create, message: "\(error)")
            }
            await made.set(vmid: vmid)
            try await stage(.create) { try await client.wait(upid, every: pollInterval, log: log) }
            return vmid
        }
        throw Failure(stage: .create, message: "no free VM id after \(createAttempts) attempts")
    }

    /// Polls the guest agent until it answers and the VM has an address other than loopback and link-local.
    func waitForAgent(node: String, vmid: Int) async throws -> [String] {
        let clock = ContinuousClock(), deadline = clock.now + agentTimeout
        var agentUp = false
        await log("waiting for the guest agent of VM \(vmid) (up to \(agentTimeout))")
        while clock.now < deadline {
            if !agentUp, (try? await client.agentPing(node: node, vmid: vmid)) == true {
                agentUp = true
                await log("guest agent answered")
            }
            if agentUp, let interfaces = try? await client.interfaces(node: node, vmid: vmid) {
                let addresses = interfaces.filter { $0.name != "lo" }.flatMap(\.addresses).filter(Self.isRoutable)
                if !addresses.isEmpty {
                    await log("VM \(vmid) addresses: \(addresses.joined(separator: ", "))")
                    return addresses
                }
            }
            try await Task.sleep(for: pollInterval)
        }
        throw Failure(stage: .agent, message: agentUp
            ? "VM \(vmid)'s guest agent answered but reported no address within \(agentTimeout)"
            : "VM \(vmid)'s guest agent did not answer within \(agentTimeout) (is qemu-guest-agent installed and enabled in the image?)")
    }

    /// Stops and destroys a deployed VM (a step after the deployment failed: its enrollment); honours keepOnFailure.
    public func undo(_ deployed: Deployed, placement: Placement) async {
        let made = Made()
        await made.set(vmid: deployed.vmid)
        await rollBack(made, placement: placement)
    }

    func rollBack(_ made: Made, placement: Placement) async {
        let vmid = await made.vmid, volume = await made.volume
        guard vmid != nil || volume != nil else { return }
        if keepOnFailure {
            await log("keeping what this deployment made for inspection (keep_on_failure): " + [vmid.map { "VM \($0)" }, volume].compactMap { $0 }.joined(separator: ", "))
            return
        }
        if let vmid {
            await log("rolling back: stopping and destroying VM \(vmid)")
            if (try? await client.vmStatus(node: placement.node, vmid: vmid)) == "running", let upid = try? await client.stopVM(node: placement.node, vmid: vmid) {
                try? await client.wait(upid, every: pollInterval, timeout: .seconds(300), log: log)
            }
            do {
                try await client.wait(try await client.destroyVM(node: placement.node, vmid: vmid), every: pollInterval, timeout: .seconds(600), log: log)
            } catch {
                await log("could not destroy VM \(vmid): \(error) — remove it by hand")
            }
        }
        if let volume { await remove(volume: volume, placement: placement) }
    }

    func remove(volume: String, placement: Placement) async {
        do {
            if let upid = try await client.deleteVolume(node: placement.node, storage: placement.importStorage, volume: volume) {
                try await client.wait(upid, every: pollInterval, timeout: .seconds(300), log: log)
            }
            await log("removed \(volume)")
        } catch {
            await log("could not remove \(volume): \(error) — remove it by hand")
        }
    }

    func stage<T: Sendable>(_ stage: Failure.Stage, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(stage: stage, message: "\(error)")
        }
    }

    /// Only `[a-zA-Z0-9_.-]` survive PVE's normalisation: the name is made of those from the start.
    static func fileName(_ base: String) -> String {
        let mapped = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "_" })
        return String(mapped.prefix(200))
    }

    static func isRoutable(_ address: String) -> Bool {
        !(address.hasPrefix("127.") || address == "::1" || address.lowercased().hasPrefix("fe80:") || address.hasPrefix("169.254."))
    }
}

extension ProxmoxClient {
    /// Whether the caller is root@pam (only root may import from an absolute path).
    public var authenticatesAsRoot: Bool {
        switch authentication {
        case .token(let id, _): id.hasPrefix("root@pam!")
        case .password(let user, _): user == "root@pam" || user == "root"
        }
    }
}
