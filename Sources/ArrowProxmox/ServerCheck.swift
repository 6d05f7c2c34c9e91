/// `arrow build-server check`: read-only calls (version, the storages' content types, the token's own permissions)
/// and, in plain words, what a deployment would miss. The classic is a privilege-separated token with no ACLs of
/// its own: every call but a few answers 403 or an empty list.
public struct ServerCheck: Sendable, Equatable {
    public var version: String?
    /// Problems, each a sentence saying what is missing and how to fix it; empty when a deployment can run.
    public var problems: [String]
    /// What was found, for the report.
    public var notes: [String]

    public var ok: Bool { problems.isEmpty }

    /// A privilege needed at a path, and what for.
    struct Need {
        var path: String
        var privileges: [String]
        /// Any one of `privileges` suffices (else all are needed).
        var any = false
        var why: String
    }

    static func needs(_ placement: ProxmoxDeployer.Placement) -> [Need] {
        [
            Need(path: "/storage/\(placement.importStorage)", privileges: ["Datastore.AllocateTemplate"], why: "to upload the image"),
            Need(path: "/storage/\(placement.importStorage)", privileges: ["Datastore.Audit", "Datastore.AllocateSpace"], any: true, why: "to read the storage's status"),
            Need(path: "/storage/\(placement.diskStorage)", privileges: ["Datastore.AllocateSpace"], why: "to create the VM's disk"),
            Need(path: "/vms", privileges: ["VM.Allocate", "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network",
                                            "VM.Config.Options", "VM.Config.Cloudinit", "VM.Config.HWType"], why: "to create the VM"),
            Need(path: "/vms", privileges: ["VM.PowerMgmt"], why: "to start, stop and remove the VM"),
            Need(path: "/vms", privileges: ["VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"], any: true, why: "to read the VM's addresses from its guest agent"),
            Need(path: "/sdn/zones/localnetwork/\(placement.bridge)", privileges: ["SDN.Use"], why: "to attach the VM to \(placement.bridge)"),
        ]
    }

    /// The privileges in effect at `path`: those of the deepest path in `permissions` that is `path` or above it
    /// (ACLs propagate down by default).
    static func effective(_ permissions: [String: Set<String>], at path: String) -> Set<String> {
        var candidate = path
        while true {
            if let privileges = permissions[candidate] { return privileges }
            if candidate == "/" { return [] }
            let parent = candidate.split(separator: "/").dropLast().joined(separator: "/")
            candidate = "/" + parent
        }
    }

    /// Reads what it can; every call that fails becomes a problem in words.
    public static func run(client: ProxmoxClient, placement: ProxmoxDeployer.Placement, identity: String, snippetsStorage: String? = nil) async -> ServerCheck {
        var check = ServerCheck(version: nil, problems: [], notes: [])
        do {
            check.version = try await client.version()
            check.notes.append("Proxmox VE \(check.version ?? "") answers at \(client.baseURL)")
        } catch let failure as ProxmoxClient.Failure {
            check.problems.append(failure.status == 401
                ? "Proxmox VE refused the credentials of \(identity) (401): check the token id and secret"
                : "Proxmox VE at \(client.baseURL) could not be asked its version: \(failure)")
            return check
        } catch {
            check.problems.append("Proxmox VE at \(client.baseURL) could not be reached: \(error)")
            return check
        }
        let permissions: [String: Set<String>]
        do {
            permissions = try await client.permissions()
        } catch {
            check.problems.append("the permissions of \(identity) could not be read (GET /access/permissions): \(error)")
            return check
        }
        if permissions.values.allSatisfy(\.isEmpty) {
            check.problems.append(identity.contains("!")
                ? "the API token \(identity) has no permissions at all. A privilege-separated token (privsep=1, the default) starts with none, whatever its user may do: grant roles to the token itself (pveum acl modify / --tokens '\(identity)' --roles PVEVMAdmin,PVEDatastoreUser and the storage and SDN paths), or create the token with privsep=0"
                : "the user \(identity) has no permissions at all: grant it roles (pveum acl modify)")
            return check
        }
        for need in needs(placement) {
            let have = effective(permissions, at: need.path)
            let missing = need.privileges.filter { !have.contains($0) }
            if need.any ? missing.count == need.privileges.count : !missing.isEmpty {
                check.problems.append("\(identity) lacks \(need.any ? missing.joined(separator: " or ") : missing.joined(separator: ", ")) on \(need.path) (needed \(need.why))")
            }
        }
        for (storage, wanted) in [(placement.importStorage, "import"), (placement.diskStorage, "images")] + (snippetsStorage.map { [($0, "snippets")] } ?? []) {
            do {
                let status = try await client.storageStatus(node: placement.node, storage: storage)
                check.notes.append("storage \(storage) on \(placement.node): \(status.type), content \(status.content.sorted().joined(separator: ","))")
                if !status.content.contains(wanted) {
                    if wanted == "import", status.content.contains("iso") {
                        check.notes.append("storage \(storage) has no import content: uploads fall back to iso content, which needs root@pam; enabling import content (PVE 8.3.6 or later) is better")
                    } else {
                        check.problems.append("storage \(storage) on \(placement.node) does not take \(wanted) content: enable it (pvesm set \(storage) --content …,\(wanted))")
                    }
                }
            } catch {
                check.problems.append("storage \(storage) on node \(placement.node) could not be read: \(error)")
            }
        }
        return check
    }
}
