import ArrowClient
import ArrowProtocol
import Foundation

/// What preparation hands on: the configurations and the verified base image.
struct Prepared: Sendable {
    var client: ClientConfigDocument
    var clientRevision: Int
    var image: ImageConfigDocument
    /// The cached base image; nil when this attempt resumes at deployment with a stored artifact.
    var basePath: String?
    /// The stored artifact (cached), when this attempt resumes at deployment with one.
    var storedArtifactPath: String?

    func requireBase() throws -> String {
        guard let basePath else { throw BuildFailure(.internalError, "no base image was prepared for this attempt", log: "download") }
        return basePath
    }
}

/// Phase 1 (`download.log`): the configurations, free space, the base image from the cache or the network.
struct Preparation {
    let run: BuildRun
    let log: TaskLog
    let workspace: Workspace

    func run() async throws -> Prepared {
        let lease = run.lease
        await log.line(.download, "fetching ClientConfig and ImageConfig")
        let (client, image): (BuilderClientConfig, ImageConfigDocument)
        do {
            client = try await run.api.clientConfig(organization: run.claim.task.organizationId, lease: lease)
            image = try await run.api.imageConfig(lease: lease)
        } catch let error as APIError {
            let code: BuildFailure.Code = switch error.status {
            case 409: .imageUnavailable
            case 422: .configInvalid
            default: .apiTimeout
            }
            throw BuildFailure(code, "reading the build configuration: \(error)", log: "download")
        } catch {
            throw BuildFailure(.apiTimeout, "reading the build configuration: \(error)", log: "download")
        }
        await log.redact(client.config.secrets + [image.proxmox?.tokenSecret].compactMap { $0 })
        let cache = try ImageCache(directory: workspace.imageCache, limitBytes: run.settings.cacheLimitBytes, http: run.http)
        if run.claim.task.phase == BuildRun.Phase.deployment.rawValue, let stored = image.storedArtifact {
            await log.line(.download, "resuming at deployment: the artifact \(stored.imageId) an earlier attempt stored "
                + "(\(ImageCache.mebibytes(stored.size)), sha256 \(stored.sha256))")
            try DiskSpace.require(stored.size, at: workspace.imageCache, for: "the stored artifact")
            let fetched = try await cache.fetch(sha256: stored.sha256, size: stored.size, url: stored.downloadUrl, headers: stored.downloadHeaders) { line in
                await log.line(.download, line)
            }
            return Prepared(client: client.config, clientRevision: client.revision, image: image, basePath: nil, storedArtifactPath: fetched.path)
        }
        let base = image.baseImage
        await log.line(.download, "base image \(base.name) (\(base.format), \(ImageCache.mebibytes(base.size)), sha256 \(base.sha256))")
        await log.line(.download, "software: \(image.software.map(\.name).joined(separator: ", ")); flags: "
            + image.ansibleFlags.filter(\.value).keys.sorted().joined(separator: ", "))
        // The download, the raw disk (up to its virtual size, grown to disk_gb) and the compressed artifact.
        let rawSize = max(base.virtualSize, Int64(image.resourceAllocation?.diskGb ?? 0) << 30)
        try DiskSpace.require(base.size, at: workspace.imageCache, for: "the base image")
        try DiskSpace.require(rawSize + base.size, at: workspace.root, for: "the raw disk and the artifact")
        let fetched = try await cache.fetch(sha256: base.sha256, size: base.size, url: base.downloadUrl, headers: base.downloadHeaders) { line in
            await log.line(.download, line)
        }
        return Prepared(client: client.config, clientRevision: client.revision, image: image, basePath: fetched.path, storedArtifactPath: nil)
    }
}

/// Phase 2 (`ansible.log`): the disk converted and mounted, base configuration, packages, Ansible roles, custom
/// scripts and branding, then released.
struct Customization {
    let run: BuildRun
    let log: TaskLog
    let workspace: Workspace
    let prepared: Prepared
    /// Progress within the phase, reported to the server (and so to whoever watches the task).
    let progress: @Sendable (Int) async -> Void

    func run() async throws {
        try Privileges.requireImaging()
        workspace.clearMarkers()
        let say: @Sendable (String) async -> Void = { [log] line in await log.line(.ansible, line) }
        await say("converting the base image to raw")
        try await DiskImage.convert(try prepared.requireBase(), format: prepared.image.baseImage.format, to: workspace.raw,
                                    diskGB: prepared.image.resourceAllocation?.diskGb, runner: run.runner, log: say)
        await progress(25)
        let disk = DiskImage(raw: workspace.raw, mountPoint: workspace.mountPoint, runner: run.runner, log: say)
        do {
            let device = try await disk.open()
            if prepared.image.resourceAllocation?.diskGb != nil { try await disk.growRoot(device) }
            let root = try await packageCacheRoot(say)
            try await customize(root)
            await StrayProcesses.kill(under: workspace.mountPoint, log: say)
            guard await disk.close() else {
                throw BuildFailure(.mountFailed, "the image's file system stayed busy after customization; its last writes may be missing", log: "ansible")
            }
        } catch {
            await StrayProcesses.kill(under: workspace.mountPoint, log: say)
            await disk.close()
            throw error
        }
        workspace.markCustomized(prepared.image.configurationHash)
    }

    /// The image's root with the builder's package caches bound in: downloaded packages (shared) and apt's lists
    /// (per distribution release), so a second build of the same software downloads nothing but freshness checks.
    func packageCacheRoot(_ say: @escaping @Sendable (String) async -> Void) async throws -> ImageRoot {
        let plain = ImageRoot(path: workspace.mountPoint, runner: run.runner, helper: run.settings.helper, log: say)
        let release = OSRelease.parse(try await plain.read("/etc/os-release") ?? "")
        let lists = workspace.aptLists(release.cacheKey)
        try FileManager.default.createDirectory(atPath: lists + "/partial", withIntermediateDirectories: true)
        await say("image: \(release.prettyName ?? release.cacheKey)")
        return ImageRoot(path: workspace.mountPoint, runner: run.runner, helper: run.settings.helper,
                         binds: [(workspace.aptArchives, "/var/cache/apt/archives"), (lists, "/var/lib/apt/lists")], log: say)
    }

    func customize(_ root: ImageRoot) async throws {
        let image = prepared.image, client = prepared.client
        let mount = workspace.mountPoint
        // What the base image holds, before anything changes it: the artifact's contents are compared with it.
        try JSONEncoder().encode(try await Contents.list(root)).write(to: URL(fileURLWithPath: workspace.basePackages))
        var ledger = SizeLedger(baseUsedBytes: SizeLedger.used(mount))
        do {
            try await ledger.measure("base_configuration", "host name, network, users", at: mount) {
                try await BaseConfiguration(root: root).apply(hostname: image.hostname, client: client)
            }
        } catch let failure as CommandFailure {
            throw BuildFailure(.configInvalid, "base configuration: \(failure)", log: "ansible")
        }
        await progress(35)
        // Software without a role is a system package; software with one is that role's to install.
        let packages = image.software.filter { $0.ansibleRole == nil }.map(\.name)
        try await ledger.measurePackages(packages, root: root, at: mount) { try await Packages(root: root).install(packages) }
        await progress(45)
        var branding: [String: JSONValue] = [:]
        if image.ansibleFlags["apply_branding"] == true, let organization = client.branding {
            branding = try Branding.stage(organization, into: workspace.root + "/branding")
        }
        let plays = AnsiblePlan.plays(software: image.software, flags: image.ansibleFlags, client: client, branding: branding)
        if !plays.isEmpty {
            // Ansible's modules run on the image's own Python.
            if try await !root.exists("/usr/bin/python3") { try await Packages(root: root).install(["python3"]) }
            let ansible = Ansible(root: root, playbook: run.settings.ansiblePlaybook, rolesDirectory: run.settings.rolesDirectory,
                                  workDirectory: workspace.root, variablesFile: run.settings.roleVariables)
            var roles: [SizeReport.Item] = []
            try await Packages(root: root).withDaemonsStopped { roles = try await ansible.run(plays) }
            ledger.items += roles
        }
        await progress(65)
        if !image.customScripts.isEmpty {
            try await ledger.measure("scripts", "\(image.customScripts.count) custom script(s)", at: mount) {
                for (index, script) in image.customScripts.enumerated() {
                    let path = "/root/arrow-script-\(index).sh"
                    try await root.write(path, script, mode: "0700")
                    do {
                        try await root.run(["/bin/sh", path])
                    } catch let failure as CommandFailure {
                        throw BuildFailure(.scriptFailed, "custom script \(index + 1) \(failure.description.dropFirst("/bin/sh ".count))", log: "ansible")
                    }
                    try await root.run(["rm", "-f", path], quiet: true)
                }
            }
        }
        ledger.usedBytes = SizeLedger.used(mount)
        try ledger.save(to: workspace.sizes)
    }
}

/// Phase 3 (`summary.log`): what the image contains, the seal, the compressed qcow2, its checksum, the upload.
struct Finalization {
    let run: BuildRun
    let log: TaskLog
    let workspace: Workspace
    let prepared: Prepared
    let progress: @Sendable (Int) async -> Void

    func run(timings: [String: Double]) async throws -> (ArtifactReceipt, BuildProvenance) {
        try Privileges.requireImaging()
        let say: @Sendable (String) async -> Void = { [log] line in await log.line(.summary, line) }
        let disk = DiskImage(raw: workspace.raw, mountPoint: workspace.mountPoint, runner: run.runner, log: say)
        var packages: [Contents.Package] = []
        do {
            try await disk.open()
            let root = ImageRoot(path: workspace.mountPoint, runner: run.runner, helper: run.settings.helper, log: say)
            packages = try await Contents.list(root)
            try await Seal(root: root).run()
            // Hand the blocks of everything deleted (by the build, the seal, apt) back to the raw file as holes, so the
            // artifact does not carry dead data: qemu-img skips holes. What virt-sparsify does, in place.
            do {
                let trimmed = try await run.runner.output(Command("fstrim", ["-v", "--", workspace.mountPoint], timeout: .seconds(600)))
                await say("trimmed free space: " + trimmed.trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                await say("fstrim did not run (\(error)); the artifact may carry deleted data")
            }
            await progress(85)
            await StrayProcesses.kill(under: workspace.mountPoint, log: say)
            guard await disk.close() else {
                throw BuildFailure(.sealFailed, "the image's file system stayed busy after the seal; not compressing a disk that may miss writes", log: "summary")
            }
        } catch {
            await StrayProcesses.kill(under: workspace.mountPoint, log: say)
            await disk.close()
            throw error
        }
        let basePackages: [Contents.Package]
        if let saved = FileManager.default.contents(atPath: workspace.basePackages),
           let list = try? JSONDecoder().decode([Contents.Package].self, from: saved) {
            basePackages = list
        } else {
            basePackages = try await baseContents(say)
        }
        await say("compressing to qcow2 (zstd)")
        do {
            // zstd compresses several times faster than qcow2's default zlib, and every current QEMU (Proxmox VE's
            // included) reads it; -W writes out of order, which lets qemu-img overlap reading and compressing.
            try await run.runner.output(Command("qemu-img", ["convert", "-c", "-W", "-m", "4", "-O", "qcow2", "-o", "compression_type=zstd",
                                                             "--", workspace.raw, workspace.artifact], timeout: .seconds(3600)))
        } catch {
            throw BuildFailure(.sealFailed, "compressing the artifact: \(error)", log: "summary")
        }
        await progress(92)
        let sha256 = try ImageCache.sha256(of: workspace.artifact)
        await say("artifact sha256 \(sha256), \(ImageCache.mebibytes(ImageCache.size(of: workspace.artifact) ?? 0))")
        let image = prepared.image
        let receipt: ArtifactReceipt
        do {
            let name = (image.vmName ?? image.hostname) + ".qcow2"
            receipt = try await run.api.uploadArtifact(lease: run.lease, path: workspace.artifact, fileName: name, sha256: sha256)
        } catch {
            throw BuildFailure(.uploadFailed, "uploading the artifact: \(error)", log: "summary")
        }
        let diff = Contents.difference(from: basePackages, to: packages)
        var provenance = BuildProvenance(
            taskId: image.taskId, baseImageId: image.baseImage.id, baseSha256: image.baseImage.sha256, configurationHash: image.configurationHash,
            software: image.software, ansibleFlags: image.ansibleFlags, roles: Ansible.roleVersions(run.settings.rolesDirectory),
            builderVersion: run.settings.version, phaseSeconds: timings, packages: packages, added: diff.added, removed: diff.removed,
            changed: diff.changed)
        // A ledger lost with the workspace (a retry on another builder) still leaves the artifact's own size.
        let artifactBytes = Int64(ImageCache.size(of: workspace.artifact) ?? 0)
        provenance.size = (SizeLedger.load(from: workspace.sizes) ?? SizeLedger()).report(artifactBytes: artifactBytes)
        return (receipt, provenance)
    }

    /// The base image's package list (read from the cached base image, attached read-only by a second loop device).
    func baseContents(_ say: @escaping @Sendable (String) async -> Void) async throws -> [Contents.Package] {
        let raw = workspace.root + "/base.raw", mountPoint = workspace.root + "/base-mnt"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        try await DiskImage.convert(try prepared.requireBase(), format: prepared.image.baseImage.format, to: raw, diskGB: nil, runner: run.runner, log: say)
        let disk = DiskImage(raw: raw, mountPoint: mountPoint, runner: run.runner, log: { _ in })
        do {
            try await disk.open()
            let packages = try await Contents.list(ImageRoot(path: mountPoint, runner: run.runner, helper: run.settings.helper, log: { _ in }))
            await disk.close()
            return packages
        } catch {
            await disk.close()
            throw error
        }
    }
}

/// Image work needs root (loop devices, mounts, chroot): said plainly, before anything is attached.
enum Privileges {
    static func requireImaging() throws {
        guard getuid() == 0 else {
            throw BuildFailure(.mountFailed, "customizing an image needs root (loop devices, mount, chroot); run the builder as root", log: "ansible")
        }
        guard FileManager.default.fileExists(atPath: "/dev/loop-control") else {
            throw BuildFailure(.mountFailed, "this host has no loop devices (/dev/loop-control is missing); load the loop module", log: "ansible")
        }
    }
}

/// Processes left running inside an image (a daemon a package started, a script's background job) keep its file
/// systems busy; they are killed before the image is unmounted.
enum StrayProcesses {
    static func kill(under root: String, log: (String) async -> Void) async {
        let resolvedRoot = (root as NSString).resolvingSymlinksInPath
        var killed: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            guard let processRoot = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/root"),
                  processRoot == resolvedRoot || processRoot.hasPrefix(resolvedRoot + "/") else { continue }
            if Glibc.kill(pid, SIGKILL) == 0 { killed.append(entry) }
        }
        if !killed.isEmpty { await log("killed \(killed.count) process(es) still running inside the image: \(killed.joined(separator: ", "))") }
    }
}

/// The fields of an image's /etc/os-release the builder uses.
struct OSRelease: Equatable {
    var id: String?
    var versionID: String?
    var prettyName: String?

    static func parse(_ text: String) -> OSRelease {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            fields[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return OSRelease(id: fields["ID"], versionID: fields["VERSION_ID"], prettyName: fields["PRETTY_NAME"])
    }

    /// A directory name for this release's package lists: letters, digits, dots and dashes only.
    var cacheKey: String {
        let raw = "\(id ?? "unknown")-\(versionID ?? "rolling")"
        return String(raw.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}
