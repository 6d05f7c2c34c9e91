import ArrowCore
import ArrowProtocol
import Crypto
import Foundation

/// Composes a task's ImageConfig from its base image's metadata, the organization's ClientConfig and the task's
/// build options. Pure, so every precedence rule is tested without a database.
enum ImageConfigComposer {
    static func compose(
        task: BuildTask, image: Image, client: ClientConfigDocument, download: PresignedRequest
    ) throws -> ImageConfigDocument {
        let options = task.options
        let software = merged(
            (client.defaultSoftware ?? [])
                + image.software.map { SoftwareSpec(name: $0.name, version: $0.version, ansibleRole: $0.ansibleRole) }
                + (options.software ?? []).map { SoftwareSpec(name: $0.name, version: $0.version, ansibleRole: $0.ansibleRole) })
        var flags = image.ansibleFlags.all
        for (name, value) in options.ansibleFlags ?? [:] { flags[name] = value }
        let resources = options.resourceAllocation.map {
            ImageConfigDocument.ResourceAllocation(cores: $0.cores, memoryMb: $0.memoryMB, diskGb: $0.diskGB)
        }
        let base = ImageConfigDocument.BaseImage(
            id: image.id.rawValue, name: image.name, fileName: image.fileName, format: image.format, size: image.fileSize,
            virtualSize: image.virtualSize, sha256: image.sha256, downloadUrl: download.url, downloadHeaders: download.headers,
            downloadExpiresAt: download.expiresAt)
        var config = ImageConfigDocument(
            taskId: task.id.rawValue, attempt: task.state.attempt, organizationId: task.organizationID.rawValue, imageId: image.id.rawValue,
            baseImage: base, software: software, ansibleFlags: flags, customScripts: options.customScripts ?? [],
            resourceAllocation: resources, hostname: hostname(task: task, client: client), vmName: task.vmName,
            deviceType: task.deviceType.rawValue, buildServerId: task.buildServerID, configurationHash: "",
            deploymentTarget: (options.deploymentTarget ?? client.deployment?.target.flatMap(BuildOptions.DeploymentTarget.init(rawValue:))
                ?? BuildOptions.defaultDeploymentTarget).rawValue)
        config.keepOnFailure = options.keepOnFailure
        config.configurationHash = try hash(config, client: client)
        return config
    }

    /// One entry per name, in first-seen order, the last definition of a name winning.
    static func merged(_ items: [SoftwareSpec]) -> [SoftwareSpec] {
        var order: [String] = []
        var byName: [String: SoftwareSpec] = [:]
        for item in items {
            if byName[item.name] == nil { order.append(item.name) }
            byName[item.name] = item
        }
        return order.compactMap { byName[$0] }
    }

    /// Build options, then the ClientConfig's network host name, then `vm_name` when it is a valid host name, then
    /// `arrow-` and the task id's first 8 characters.
    static func hostname(task: BuildTask, client: ClientConfigDocument) -> String {
        if let name = task.options.hostname { return name }
        if let name = client.networkSettings?.hostname { return name }
        if let name = task.vmName?.lowercased(), BuildOptions.isValidHostname(name), !name.contains(".") { return name }
        return "arrow-" + task.id.rawValue.prefix(8).filter { $0.isLetter || $0.isNumber }.lowercased()
    }

    /// Over the inputs that decide the image: the ClientConfig (secrets and all, so a changed key counts) and the
    /// ImageConfig without what changes per attempt (download URL, attempt number).
    static func hash(_ config: ImageConfigDocument, client: ClientConfigDocument) throws -> String {
        var stable = config
        stable.attempt = 0
        stable.baseImage.downloadUrl = ""
        stable.baseImage.downloadHeaders = [:]
        stable.baseImage.downloadExpiresAt = Date(timeIntervalSince1970: 0)
        stable.taskId = ""
        stable.deploymentTarget = nil
        stable.keepOnFailure = nil
        let encoder = WireJSON.encoder()
        var hasher = SHA256()
        hasher.update(data: try encoder.encode(client))
        hasher.update(data: Data([0]))
        hasher.update(data: try encoder.encode(stable))
        return Hex.string(Array(hasher.finalize()))
    }
}
