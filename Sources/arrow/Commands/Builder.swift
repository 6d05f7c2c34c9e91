import ArgumentParser
import ArrowBuilder
import ArrowClient
import ArrowNetwork
import AsyncHTTPClient
import Dispatch
import Foundation

/// `arrow builder`: the imaging worker.
struct BuilderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "builder",
        abstract: "Run the imaging worker: claim build tasks and run them (needs root). SIGTERM finishes the current build, then exits.")

    @OptionGroup var server: ServerOptions
    @OptionGroup var options: BuilderOptions
    @Flag(help: "Handle one task (waiting up to --poll seconds for it) and exit: the GitHub Actions workflow.") var once = false
    @Option(help: "Builds run at once (each needs its own loop device and disk space).") var concurrency = 1

    func run() async throws {
        let client = try server.client()
        let settings = try options.settings(defaultWork: "/var/tmp/arrow-builder", defaultCache: "/var/cache/arrow-builder")
        guard (1...16).contains(concurrency) else { throw ValidationError("--concurrency is 1 to 16") }
        let drain = BuildWorker.Drain()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let worker = BuildWorker(api: client, settings: settings, http: http) { line in print(line) }
        let lock = try await worker.takeWorkDirectory()
        defer { withExtendedLifetime(lock) {} }
        print("builder \(settings.name) \(settings.version): \(client.baseURL), \(settings.deviceTypes.joined(separator: ",")), "
            + "cache \(settings.cacheDirectory), roles \(settings.rolesDirectory)")
        let workers = Task {
            await withTaskGroup(of: [String].self) { group in
                for slot in 0..<concurrency { group.addTask { await worker.run(once: once, drain: drain, slot: slot) } }
                return await group.reduce(into: []) { $0 += $1 }
            }
        }
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM)
        source.setEventHandler {
            print("SIGTERM: finishing the current build, then stopping")
            if drain.request() { workers.cancel() }
        }
        source.resume()
        let outcomes = await workers.value
        source.cancel()
        try? await http.shutdown()
        if once, outcomes.contains(where: { $0.hasPrefix("failed") }) { throw ExitCode(1) }
    }

    /// This binary (it carries the chroot helper).
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// The options `arrow builder` and `arrow serve --with-builder` share.
struct BuilderOptions: ParsableArguments {
    @Option(help: "Base images, packages and checkpoints (ARROW_BUILDER_CACHE).") var cacheDir: String?
    @Option(help: "Per-task scratch space (ARROW_BUILDER_WORK).") var workDir: String?
    @Option(help: "The most the base image cache may hold, in GiB.") var cacheLimitGb = 20
    @Option(help: "This builder's name (default: the host name).") var name: String?
    @Option(help: "Device types it builds, comma-separated.") var deviceTypes = "vm,pvm"
    @Option(help: "Build servers it runs on, comma-separated.") var buildServers = ""
    @Option(help: "The Ansible roles directory (ARROW_ROLES_DIR; default ./imaging/roles).") var rolesDir: String?
    @Option(help: "A YAML or JSON file of role variables for every build (ARROW_ROLE_VARS), e.g. web_testing_downloads.") var roleVars: String?
    @Option(help: "ansible-playbook to run (ARROW_ANSIBLE_PLAYBOOK; default: on PATH).") var ansiblePlaybook: String?
    @Option(help: "Seconds each claim waits for work.") var poll = 30
    @Option(help: "The boot test's accelerator, kvm or tcg (ARROW_VERIFY_ACCEL; default: KVM when it works, else TCG).") var verifyAccel: String?
    @Option(help: "Seconds the boot test waits for the artifact's SSH to answer.") var bootTimeout = 600
    @Option(help: "Networks deployments may connect to, e.g. 10.20.0.0/16,fd00::/8 (ARROW_BUILDER_SERVER_NETWORKS; default: any address but link-local).")
    var buildServerNetworks: String?

    func settings(defaultWork: String, defaultCache: String) throws -> BuilderSettings {
        let env = ProcessInfo.processInfo.environment
        if let file = roleVars ?? env["ARROW_ROLE_VARS"], !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("the role variables file \(file) cannot be read")
        }
        let accelerator = verifyAccel ?? env["ARROW_VERIFY_ACCEL"]
        if let accelerator, !["kvm", "tcg"].contains(accelerator) { throw ValidationError("--verify-accel is kvm or tcg") }
        var settings = BuilderSettings(
            name: name ?? ProcessInfo.processInfo.hostName, version: ArrowVersion.current,
            deviceTypes: deviceTypes.split(separator: ",").map(String.init), buildServers: buildServers.split(separator: ",").map(String.init),
            workDirectory: workDir ?? env["ARROW_BUILDER_WORK"] ?? defaultWork,
            cacheDirectory: cacheDir ?? env["ARROW_BUILDER_CACHE"] ?? defaultCache, cacheLimitBytes: Int64(cacheLimitGb) << 30,
            helper: BuilderCommand.executablePath(), ansiblePlaybook: ansiblePlaybook ?? env["ARROW_ANSIBLE_PLAYBOOK"],
            rolesDirectory: rolesDir ?? env["ARROW_ROLES_DIR"] ?? FileManager.default.currentDirectoryPath + "/imaging/roles",
            roleVariables: roleVars ?? env["ARROW_ROLE_VARS"], pollSeconds: poll)
        settings.bootTest.accelerator = accelerator
        settings.bootTest.bootTimeout = .seconds(max(30, bootTimeout))
        do {
            settings.buildServerAddresses = .buildServers(networks: try IPNetwork.list(buildServerNetworks ?? env["ARROW_BUILDER_SERVER_NETWORKS"] ?? ""))
        } catch {
            throw ValidationError("--build-server-networks: \(error)")
        }
        return settings
    }
}

/// `arrow internal-chroot`: the builder's helper for running one command inside a mounted image (see
/// `ChrootHelper`); not for people.
struct InternalChroot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "internal-chroot", abstract: "Builder internals.", shouldDisplay: false)

    @Option var root: String
    @Option var bind: [String] = []
    @Option var write: String?
    @Option var mode = "0644"
    @Flag var noChroot = false
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() throws {
        if let write {
            guard let bits = mode_t(mode, radix: 8) else { throw ValidationError("--mode is octal") }
            try ChrootHelper.write(root: root, path: write, mode: bits)
        }
        let binds = try bind.map { spec -> (host: String, guest: String) in
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[1].hasPrefix("/") else { throw ValidationError("--bind HOST:GUEST") }
            return (parts[0], parts[1])
        }
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        try ChrootHelper.exec(root: root, binds: binds, arguments: arguments, enterRoot: !noChroot)
    }
}
