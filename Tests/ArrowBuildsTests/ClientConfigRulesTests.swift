@testable import ArrowBuilds
import ArrowCore
import ArrowProtocol
import Foundation
import Testing

@Suite struct ClientConfigRulesTests {
    typealias Doc = ClientConfigDocument

    static let stored = Doc(
        vpnConfig: .init(managementUrl: "https://nb.example.org", setupKey: "KEY-1"),
        users: [.init(name: "alice", passwordHash: "$6$salt$hash"), .init(name: "bob", passwordHash: "$y$j9T$x$y")])

    @Test func secretsLeftOutKeepTheirValueAndEmptyClearsThem() {
        var incoming = Self.stored
        incoming.vpnConfig?.setupKey = nil
        incoming.users = [.init(name: "alice", passwordHash: ""), .init(name: "bob"), .init(name: "carol")]
        let merged = ClientConfigRules.merge(incoming, over: Self.stored)
        #expect(merged.vpnConfig?.setupKey == "KEY-1")
        #expect(merged.users?.map(\.passwordHash) == [nil, "$y$j9T$x$y", nil])
        // A replaced secret is replaced.
        incoming.vpnConfig?.setupKey = "KEY-2"
        #expect(ClientConfigRules.merge(incoming, over: Self.stored).vpnConfig?.setupKey == "KEY-2")
    }

    @Test func redactionRemovesEverySecretAndNamesIt() throws {
        let (shown, paths) = ClientConfigRules.redacted(Self.stored)
        #expect(paths == ["users[alice].password_hash", "users[bob].password_hash", "vpn_config.setup_key"])
        let text = String(decoding: try WireJSON.encoder().encode(shown), as: UTF8.self)
        #expect(!text.contains("KEY-1") && !text.contains("$6$") && !text.contains("$y$"))
        #expect(shown.vpnConfig?.managementUrl == "https://nb.example.org")
    }

    @Test func sealingTouchesOnlySecrets() throws {
        let sealed = ClientConfigRules.mapSecrets(Self.stored) { path, value in "<\(path)>" }
        #expect(sealed.vpnConfig?.setupKey == "<vpn_config.setup_key>")
        #expect(sealed.users?[1].passwordHash == "<users[bob].password_hash>")
        #expect(sealed.vpnConfig?.managementUrl == "https://nb.example.org")
    }

    @Test func unknownFieldsAreNamedWithTheirPath() throws {
        func reason(_ json: String) -> String? {
            do {
                _ = try UnknownKeys.decode(Doc.self, from: Data(json.utf8), example: .fullExample, reason: "unknown_client_config_field")
                return nil
            } catch let error as ArrowError { return error.reason.map { "\($0): \(error.message)" } } catch { return "\(error)" }
        }
        #expect(reason(#"{"branding":{"motdd":"x"}}"#) == "unknown_client_config_field: Unknown field branding.motdd")
        #expect(reason(#"{"users":[{"name":"a"},{"name":"b","sudo_all":true}]}"#) == "unknown_client_config_field: Unknown field users[1].sudo_all")
        #expect(reason(#"{"vpnConfig":{}}"#) == "unknown_client_config_field: Unknown field vpnConfig")
        #expect(reason(#"{"timezone":3}"#)?.hasPrefix("invalid_json: The body is not a valid document: timezone") == true)
        #expect(reason(#"{"network_settings":{"mode":"static","address":"10.0.0.5/24"},"timezone":"UTC"}"#) == nil)
    }

    @Test(arguments: [
        Doc(networkSettings: .init(mode: "static")),
        Doc(networkSettings: .init(mode: "static", address: "10.0.0.300/24")),
        Doc(networkSettings: .init(address: "10.0.0.5/24")),
        Doc(networkSettings: .init(mode: "bridge")),
        Doc(networkSettings: .init(hostname: "-bad-")),
        Doc(networkSettings: .init(dns: ["8.8.8"])),
        Doc(networkSettings: .init(interface: "eth0; rm -rf /")),
        Doc(vpnConfig: .init(managementUrl: "file:///etc/passwd")),
        Doc(vpnConfig: .init(setupKey: "line1\nline2")),
        Doc(branding: .init(primaryColor: "red")),
        Doc(branding: .init(logoBase64: "not base64!")),
        Doc(branding: .init(motd: String(repeating: "x", count: 20_000))),
        Doc(defaultSoftware: [SoftwareSpec(name: "nmap; curl evil")]),
        Doc(defaultSoftware: [SoftwareSpec(name: "nmap", ansibleRole: "../../etc")]),
        Doc(users: [.init(name: "root")]),
        Doc(users: [.init(name: "Alice")]),
        Doc(users: [.init(name: "alice"), .init(name: "alice")]),
        Doc(users: [.init(name: "alice", passwordHash: "hunter2")]),
        Doc(users: [.init(name: "alice", sshAuthorizedKeys: ["not a key"])]),
        Doc(users: [.init(name: "alice", shell: "bash")]),
        Doc(timezone: "Mars/Olympus"),
        Doc(timezone: "../../etc/passwd"),
    ])
    func invalidConfigurationsAreRefused(_ document: Doc) {
        let error = #expect(throws: ArrowError.self) { try ClientConfigRules.validate(document) }
        #expect(error?.reason == "invalid_client_config")
        #expect(error.map { !$0.message.contains("hunter2") } ?? true)
    }

    @Test func aFullConfigurationIsAccepted() throws {
        var full = Doc.fullExample
        full.users?[0].passwordHash = "$6$rounds=5000$salt$abcdefghijklmnop"
        full.users?[0].sshAuthorizedKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator@example"]
        full.timezone = "Europe/Berlin"
        try ClientConfigRules.validate(full)
        try ClientConfigRules.validate(Doc(networkSettings: .init(mode: "static", address: "2001:db8::5/64", gateway: "2001:db8::1")))
    }
}

@Suite struct ImageConfigComposerTests {
    func task(options: BuildOptions = BuildOptions(), vmName: String? = nil) -> BuildTask {
        BuildTask(organizationID: OrganizationID("org"), imageID: ImageID("img"), vmName: vmName, options: options, createdBy: nil, createdAt: Date())
    }

    func image() throws -> Image {
        Image(
            id: ImageID("img"), organizationID: OrganizationID("org"), name: "debian", description: nil, fileName: "debian.qcow2", fileSize: 10,
            fileType: "application/octet-stream", storageKey: "images/img/debian.qcow2", format: "qcow2", virtualSize: 20,
            sha256: String(repeating: "a", count: 64), status: .active,
            software: [SoftwareEntry(name: "nmap", version: "latest", ansibleRole: "security-tools"),
                       SoftwareEntry(name: "curl", version: "8", ansibleRole: "base")],
            ansibleFlags: try AnsibleFlags(enabled: ["harden_ssh", "apply_branding"]), version: 1, previousVersionID: nil,
            uploadedBy: nil, createdAt: Date(), updatedAt: Date())
    }

    let download = PresignedRequest(method: "GET", url: "http://127.0.0.1/x", expiresAt: Date())

    @Test func softwareFlagsAndResourcesComposeInOrder() throws {
        let options = BuildOptions(
            software: [SoftwareItem(name: "curl", version: "9"), SoftwareItem(name: "jq")], ansibleFlags: ["harden_ssh": false, "install_vpn": true],
            customScripts: ["echo hi"], resourceAllocation: ResourceAllocation(cores: 2, memoryMB: 2048, diskGB: 20))
        let client = ClientConfigDocument(defaultSoftware: [SoftwareSpec(name: "htop"), SoftwareSpec(name: "nmap", version: "7.9")])
        let config = try ImageConfigComposer.compose(task: task(options: options), image: try image(), client: client, download: download)
        #expect(config.software.map(\.name) == ["htop", "nmap", "curl", "jq"])
        #expect(config.software.first { $0.name == "nmap" }?.version == "latest", "the image's entry overrides the default")
        #expect(config.software.first { $0.name == "curl" }?.version == "9", "build options override the image")
        #expect(config.ansibleFlags == ["harden_ssh": false, "install_vpn": true, "apply_branding": true, "install_monitoring": false])
        #expect(config.customScripts == ["echo hi"])
        #expect(config.resourceAllocation == .init(cores: 2, memoryMb: 2048, diskGb: 20))
        #expect(config.baseImage.sha256 == String(repeating: "a", count: 64) && config.baseImage.downloadUrl == "http://127.0.0.1/x")
    }

    @Test func hostnamePrecedence() throws {
        let network = ClientConfigDocument(networkSettings: .init(hostname: "from-network"))
        #expect(ImageConfigComposer.hostname(task: task(options: BuildOptions(hostname: "from-options"), vmName: "vm"), client: network) == "from-options")
        #expect(ImageConfigComposer.hostname(task: task(vmName: "vm"), client: network) == "from-network")
        #expect(ImageConfigComposer.hostname(task: task(vmName: "Lab-VM-01"), client: ClientConfigDocument()) == "lab-vm-01")
        let derived = ImageConfigComposer.hostname(task: task(vmName: "not a host name"), client: ClientConfigDocument())
        #expect(derived.hasPrefix("arrow-") && BuildOptions.isValidHostname(derived))
    }

    @Test func theConfigurationHashFollowsInputsNotAttempts() throws {
        let first = task()
        let base = try ImageConfigComposer.compose(task: first, image: try image(), client: ClientConfigDocument(), download: download)
        var again = first
        again.state.attempt = 3
        let other = PresignedRequest(method: "GET", url: "http://127.0.0.1/y", expiresAt: Date().addingTimeInterval(60))
        #expect(try ImageConfigComposer.compose(task: again, image: try image(), client: ClientConfigDocument(), download: other)
            .configurationHash == base.configurationHash)
        let changed = ClientConfigDocument(vpnConfig: .init(setupKey: "rotated"))
        #expect(try ImageConfigComposer.compose(task: first, image: try image(), client: changed, download: download)
            .configurationHash != base.configurationHash)
    }
}
