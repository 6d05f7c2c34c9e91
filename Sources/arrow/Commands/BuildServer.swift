import ArgumentParser
import ArrowClient
import Foundation
import NIOHTTP1

extension ArrowCommand {
    /// `arrow build-server add|list|check|remove`: the organization's Proxmox VE endpoints.
    struct BuildServerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-server", abstract: "Proxmox VE endpoints builds deploy to: add, list, check, remove.",
            subcommands: [Add.self, List.self, Check.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register a Proxmox VE endpoint. The token secret is read from a file or the environment, never the command line.")
            @OptionGroup var server: ServerOptions
            @Argument(help: "Its id (what --build-server and build_server_id name), e.g. pve-lab.") var id: String
            @Option(help: "The node's API address, e.g. https://pve.example.org:8006.") var url: String
            @Option(help: "The API token id, USER@REALM!TOKENID.") var tokenId: String
            @Option(help: "A file holding the token's secret ('-': standard input); default: $PVE_TOKEN_SECRET.") var tokenSecretFile: String?
            @Option(help: "The node VMs are created on.") var node: String
            @Option(help: "Storage uploads go to (import content).") var importStorage = "local"
            @Option(help: "Storage VM disks go to (images content).") var diskStorage = "local-lvm"
            @Option(help: "Bridge of the VMs' network.") var bridge = "vmbr0"
            @Option(help: "VLAN tag of the VMs' network.") var vlan: Int?
            @Option(help: "PEM file of the CA that signs the node's certificate (/etc/pve/pve-root-ca.pem).") var caFile: String?
            @Option(help: "A storage with snippets content, for NetBird keys at first boot (cicustom).") var snippetsStorage: String?
            @Option(help: "Where builder hosts see that storage's snippets directory (a shared mount).") var snippetsDirectory: String?
            @Option(help: "Instead of --ca-file: the SHA-256 fingerprint of the node's self-signed certificate, pinned.") var tlsFingerprint: String?
            @Option(help: "A name for people.") var name: String?
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let secret = try readSecret()
                var body: [String: Any] = ["id": id, "url": url, "token_id": tokenId, "token_secret": secret, "node": node,
                                           "import_storage": importStorage, "disk_storage": diskStorage, "bridge": bridge]
                if let vlan { body["vlan"] = vlan }
                if let name { body["name"] = name }
                if let snippetsStorage { body["snippets_storage"] = snippetsStorage }
                if let tlsFingerprint { body["tls_fingerprint"] = tlsFingerprint }
                if let snippetsDirectory { body["snippets_directory"] = snippetsDirectory }
                if let caFile {
                    guard let pem = try? String(contentsOfFile: caFile, encoding: .utf8) else { throw ValidationError("cannot read \(caFile)") }
                    body["ca_pem"] = pem
                }
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    let added = try await client.json(.POST, "/api/organizations/\(try pathSegment(org))/build-servers", body: body) as? [String: Any]
                    print("added \(added?["id"] as? String ?? id): \(url), node \(node); check it with: arrow build-server check \(id)")
                }
            }

            func readSecret() throws -> String {
                let text: String?
                switch tokenSecretFile {
                case "-": text = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8)
                case let path?: text = try? String(contentsOfFile: path, encoding: .utf8)
                case nil: text = ProcessInfo.processInfo.environment["PVE_TOKEN_SECRET"]
                }
                guard let secret = text?.trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty else {
                    throw ValidationError("Give the token secret with --token-secret-file FILE (or -) or in PVE_TOKEN_SECRET")
                }
                return secret
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The organization's build servers (secrets are never shown).")
            @OptionGroup var server: ServerOptions
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    let items = (try await client.json(.GET, "/api/organizations/\(try pathSegment(org))/build-servers") as? [String: Any])?["build_servers"]
                        as? [[String: Any]] ?? []
                    if json { return try printJSON(items) }
                    for item in items {
                        print([item["id"] as? String ?? "?", item["url"] as? String ?? "?", "node \(item["node"] as? String ?? "?")",
                               "token \(item["token_id"] as? String ?? "?")", "storage \(item["import_storage"] as? String ?? "?")→\(item["disk_storage"] as? String ?? "?")",
                               "bridge \(item["bridge"] as? String ?? "?")" + ((item["vlan"] as? Int).map { " vlan \($0)" } ?? "")].joined(separator: "\t"))
                    }
                }
            }
        }

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Read-only calls to the server (version, storages, the token's permissions); says what a deployment would miss. Exits 1 when something is.")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The build server's id.") var id: String
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let client = try server.client()
                var ok = false
                try await remote {
                    let org = try await organizationID(client, organization)
                    let answer = try await client.json(.POST, "/api/organizations/\(try pathSegment(org))/build-servers/\(try pathSegment(id))/check",
                                                       body: [String: Any]()) as? [String: Any] ?? [:]
                    ok = answer["ok"] as? Bool ?? false
                    if json { return try printJSON(answer) }
                    for note in answer["notes"] as? [String] ?? [] { print("  " + note) }
                    let problems = answer["problems"] as? [String] ?? []
                    print(problems.isEmpty ? "ok: deployments to \(id) can run" : "\(problems.count) problem(s):")
                    for problem in problems { print("  - " + problem) }
                }
                if !ok { throw ExitCode(1) }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Forget a build server (its VMs stay on it).")
            @OptionGroup var server: ServerOptions
            @Argument(help: "The build server's id.") var id: String
            @Option(help: "Superusers: the organization (default: yours).") var organization: String?

            func run() async throws {
                let client = try server.client()
                try await remote {
                    let org = try await organizationID(client, organization)
                    _ = try await client.json(.DELETE, "/api/organizations/\(try pathSegment(org))/build-servers/\(try pathSegment(id))")
                    print("removed \(id)")
                }
            }
        }
    }
}

func organizationID(_ client: APIClient, _ given: String?) async throws -> String {
    if let given { return given }
    return try await ownOrganization(client)
}
