import ArrowProtocol
import Foundation

/// Which roles a build runs, with which variables: one per role named by the software list (with the software
/// that names it), then one per spec flag that is on, branding last.
enum AnsiblePlan {
    struct Play: Equatable {
        var role: String
        var vars: [String: JSONValue]
    }

    /// The spec's flags, in the order their roles run; each runs the role of its name.
    static let flagRoles = ["harden_ssh", "install_monitoring", "install_vpn", "apply_branding"]

    /// `branding`: the `apply_branding` role's variables (``Branding/stage(_:into:)``), when the flag is on.
    static func plays(software: [SoftwareSpec], flags: [String: Bool], client: ClientConfigDocument,
                      branding: [String: JSONValue] = [:]) -> [Play] {
        var plays: [Play] = []
        var order: [String] = []
        var byRole: [String: [SoftwareSpec]] = [:]
        for item in software {
            guard let role = item.ansibleRole else { continue }
            if byRole[role] == nil { order.append(role) }
            byRole[role, default: []].append(item)
        }
        for role in order {
            let items = byRole[role] ?? []
            plays.append(Play(role: role, vars: ["arrow_software": .array(items.map { item in
                .object(["name": .string(item.name), "version": .string(item.version ?? "latest")])
            })]))
        }
        for flag in flagRoles where flags[flag] == true {
            var vars: [String: JSONValue] = [:]
            if flag == "install_vpn", let repository = client.vpnConfig?.packageRepository { vars["netbird_repository"] = .string(repository) }
            if flag == "install_vpn", let url = client.vpnConfig?.managementUrl { vars["netbird_management_url"] = .string(url) }
            if flag == "apply_branding" { vars = branding }
            plays.append(Play(role: flag, vars: vars))
        }
        return plays
    }
}

/// Runs the plan's roles with `ansible-playbook` through the chroot connection (no SSH, no boot), inside the
/// chroot helper's mount namespace so /proc, /dev and the package cache are there for the modules. Every task's
/// result reaches ansible.log as it happens; a failure names the failing task.
///
/// The roles are imported one after the other in one play, each followed by a size checkpoint (the image's file
/// system, `stat -f` on the controller side, printed as `ARROW-SIZE …`), so the build can say what each role added.
struct Ansible {
    let root: ImageRoot
    let playbook: String?
    let rolesDirectory: String
    let workDirectory: String
    /// The builder host's role variables (`--role-vars`), a YAML or JSON file: download URLs, package repositories
    /// and the like. They become the image host's `host_vars`, so they override the roles' defaults and the build's own
    /// variables (a ClientConfig's package repository, say) override them.
    var variablesFile: String? = nil

    /// Returns what each role added to the image's file system.
    @discardableResult
    func run(_ plays: [AnsiblePlan.Play]) async throws -> [SizeReport.Item] {
        let missing = plays.map(\.role).filter { !FileManager.default.fileExists(atPath: "\(rolesDirectory)/\($0)/tasks/main.yml") }
        guard missing.isEmpty else {
            throw BuildFailure(.ansibleFailed, "no such role in \(rolesDirectory): \(missing.joined(separator: ", "))", log: "ansible")
        }
        let directory = workDirectory + "/ansible"
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        // JSON is YAML: the playbook and inventory are written with the JSON encoder, so no value needs escaping.
        var tasks = Self.checkpoint(0, root: root.path)
        for (index, play) in plays.enumerated() {
            tasks.append(.object(["name": .string("role \(play.role)"), "ansible.builtin.import_role": .object(["name": .string(play.role)]),
                                  "vars": .object(play.vars)]))
            tasks += Self.checkpoint(index + 1, root: root.path)
        }
        let book: JSONValue = .array([.object([
            "name": .string("arrow-imaging"), "hosts": .string("image"), "gather_facts": .bool(true), "tasks": .array(tasks),
        ])])
        let inventory: JSONValue = .object(["all": .object(["hosts": .object(["image": .object([
            "ansible_connection": .string("community.general.chroot"), "ansible_host": .string(root.path),
            "ansible_python_interpreter": .string("/usr/bin/python3"),
        ])])])])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(book).write(to: URL(fileURLWithPath: directory + "/playbook.json"))
        try encoder.encode(inventory).write(to: URL(fileURLWithPath: directory + "/inventory.json"))
        try? FileManager.default.removeItem(atPath: directory + "/host_vars")
        if let variablesFile {
            do {
                try FileManager.default.createDirectory(atPath: directory + "/host_vars", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: variablesFile, toPath: directory + "/host_vars/image.yml")
            } catch {
                throw BuildFailure(.ansibleFailed, "the role variables file \(variablesFile) could not be read", log: "ansible")
            }
        }
        await root.log("ansible roles: \(plays.map(\.role).joined(separator: ", "))")

        let executable = playbook ?? "ansible-playbook"
        var arguments = ["internal-chroot", "--root", root.path, "--no-chroot"]
        for (host, guest) in root.binds { arguments += ["--bind", "\(host):\(guest)"] }
        arguments += ["--", executable, "-i", directory + "/inventory.json", directory + "/playbook.json"]
        let environment: [String: String?] = [
            "ANSIBLE_ROLES_PATH": rolesDirectory, "ANSIBLE_LOCAL_TEMP": directory + "/tmp", "ANSIBLE_REMOTE_TMP": "/tmp/.ansible",
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0", "PYTHONUNBUFFERED": "1",
            "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_HOST_KEY_CHECKING": "0", "DEBIAN_FRONTEND": "noninteractive",
        ]
        let tracker = TaskTracker()
        let sizes = SizeCheckpoints()
        let result: CommandResult
        do {
            result = try await root.runner.run(Command(root.helper, arguments, environment: environment, timeout: .seconds(3600))) { line in
                await tracker.see(line.text)
                await sizes.see(line.text)
                await root.log(line.text)
            }
        } catch let error as CommandError {
            throw BuildFailure(.ansibleFailed, "\(error)", log: "ansible")
        }
        guard result.succeeded else {
            let (failed, last) = (await tracker.failedTask, await tracker.lastTask)
            let task = failed ?? last ?? "the playbook"
            throw BuildFailure(.ansibleFailed, "Ansible task \(task) failed", log: "ansible")
        }
        return await sizes.growth(of: plays.map(\.role))
    }

    /// One task: the blocks, free blocks and block size of the image's file system, read by a lookup on the controller
    /// (no module shipped into the image, so a checkpoint costs milliseconds) and printed for ``SizeCheckpoints``.
    /// None for a path the shell quoting cannot carry (the builder's own workspace paths never have a quote).
    static func checkpoint(_ number: Int, root: String) -> [JSONValue] {
        guard !root.contains("'"), !root.contains("\"") else { return [] }
        return [.object(["name": .string("arrow size checkpoint \(number)"), "ansible.builtin.debug": .object([
            "msg": .string("ARROW-SIZE \(number) {{ lookup('ansible.builtin.pipe', \"stat -f -c %b:%f:%S '\(root)'\") }}"),
        ])])]
    }

    /// Each role's version (`meta/arrow-version` in its directory), for provenance.
    static func roleVersions(_ directory: String) -> [String: String] {
        var versions: [String: String] = [:]
        for role in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let text = (try? String(contentsOfFile: "\(directory)/\(role)/meta/arrow-version", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            versions[role] = text ?? "unversioned"
        }
        return versions
    }
}

/// Follows ansible-playbook's output: the task running, and the one that failed.
actor TaskTracker {
    private(set) var lastTask: String?
    private(set) var failedTask: String?

    func see(_ line: String) {
        if line.hasPrefix("TASK ["), let end = line.firstIndex(of: "]") {
            lastTask = "'" + line[line.index(line.startIndex, offsetBy: 6)..<end] + "'"
        } else if line.hasPrefix("fatal:") || line.hasPrefix("failed:"), failedTask == nil {
            failedTask = lastTask
        }
    }
}
