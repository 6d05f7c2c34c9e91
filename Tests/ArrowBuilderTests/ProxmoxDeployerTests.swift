@testable import ArrowProxmox
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Crypto
import ArrowTesting
import Foundation
import Testing

/// The Proxmox VE deployment against the loopback fake, which checks every request against PVE's published schema.
@Suite struct ProxmoxDeployerTests {
    static let keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0 admin@example.org", "ssh-rsa AAAAB3NzaC1yc2E+/= ops key"]

    struct Site {
        let fake: FakeProxmox
        let client: ProxmoxClient
        let artifact: String
        let sha256: String
        let lines: Lines

        func deployer(agentTimeout: Duration = .seconds(20), keep: Bool = false) -> ProxmoxDeployer {
            let lines = self.lines
            return ProxmoxDeployer(client: client, agentTimeout: agentTimeout, pollInterval: .milliseconds(50), keepOnFailure: keep) { await lines.add($0) }
        }

        func deploy(_ deployer: ProxmoxDeployer, storage: String = "local") async throws -> ProxmoxDeployer.Deployed {
            try await deployer.deploy(artifact: artifact, sha256: sha256, baseName: "arrow-task1234-web 01", placement: .init(node: "pve1", importStorage: storage, diskStorage: "local-lvm", vlan: 20),
                                      machine: VMParameters(name: "web_01", cores: 2, memoryMB: 2048, tags: ["arrow", "Org Acme"], description: "built by arrow-imaging",
                                                            sshKeys: ProxmoxDeployerTests.keys))
        }

        func stop() async {
            await client.shutdown()
            await fake.stop()
            try? FileManager.default.removeItem(atPath: artifact)
        }
    }

    actor Lines {
        var all: [String] = []
        func add(_ line: String) { all.append(line) }
    }

    static func site(_ options: FakeProxmox.Options = .init(), password: Bool = false) async throws -> Site {
        let fake = try await FakeProxmox.start(options)
        let client = try ProxmoxClient(baseURL: fake.url, authentication: password
            ? .password(user: options.user, password: options.password) : .token(id: options.tokenID, secret: options.tokenSecret))
        let artifact = FileManager.default.temporaryDirectory.appendingPathComponent("pve-\(UUID().uuidString).qcow2").path
        var content = Data("QFI\u{fb}".utf8)
        content.append(Data((0..<300_000).map { UInt8($0 % 251) }))
        try content.write(to: URL(fileURLWithPath: artifact))
        let sha = SHA256Hex.of(content)
        return Site(fake: fake, client: client, artifact: artifact, sha256: sha, lines: Lines())
    }

    @Test func aWholeDeploymentUploadsCreatesStartsAndReadsTheAddresses() async throws {
        let site = try await Self.site()
        defer { Task { await site.stop() } }
        let deployed = try await site.deploy(site.deployer())
        #expect(deployed == .init(vmid: 100, node: "pve1", addresses: ["192.0.2.50"]))
        #expect(site.fake.violations.isEmpty, "\(site.fake.violations)")
        let vm = try #require(site.fake.vms.first)
        #expect(vm.running)
        #expect(vm.config["scsi0"] == "local-lvm:0,import-from=local:import/arrow-task1234-web_01.qcow2,discard=on")
        #expect(vm.config["scsihw"] == "virtio-scsi-pci" && vm.config["agent"] == "enabled=1" && vm.config["serial0"] == "socket")
        #expect(vm.config["ide2"] == "local-lvm:cloudinit" && vm.config["ipconfig0"] == "ip=dhcp")
        #expect(vm.config["net0"] == "virtio,bridge=vmbr0,tag=20")
        #expect(vm.config["name"] == "web-01" && vm.config["tags"] == "arrow;org-acme" && vm.config["memory"] == "2048" && vm.config["cores"] == "2")
        // Form-decoded once by the server, the keys are still percent-encoded (PVE's `urlencoded` format)…
        let sshkeys = try #require(vm.config["sshkeys"])
        #expect(!sshkeys.contains(" ") && !sshkeys.contains("+") && !sshkeys.contains("/"))
        // …and decode to the keys, one per line.
        #expect(sshkeys.removingPercentEncoding == Self.keys.joined(separator: "\n"))
        // The uploaded volume was imported and removed; the upload's task was polled on the API node its UPID names.
        #expect(site.fake.volumes.isEmpty)
        #expect(site.fake.requests.contains { $0.hasPrefix("GET /nodes/pve-api/tasks/UPID%3Apve-api%3A") && $0.hasSuffix("/status") })
        let log = await site.lines.all.joined(separator: "\n")
        #expect(log.contains("[imgcopy] calculating checksum...OK, checksum verified"))
        #expect(log.contains("[qmcreate] importing disk"))
        #expect(!log.contains(site.fake.options.tokenSecret))
    }

    @Test func twoDeploysRacingForOneIDAskAgain() async throws {
        var options = FakeProxmox.Options()
        options.raceNextID = true
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        let deployed = try await site.deploy(site.deployer())
        #expect(deployed.vmid == 101)
        #expect(site.fake.vms.map(\.vmid).sorted() == [100, 101])
        #expect(await site.lines.all.contains { $0.contains("VM id 100 was taken meanwhile") })
        #expect(site.fake.violations.isEmpty, "\(site.fake.violations)")
    }

    @Test func anUploadThatFailsWith500EndsAsAnUploadFailureAndLeavesNothing() async throws {
        var options = FakeProxmox.Options()
        options.uploadFailsWith500 = true
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        let failure = await #expect(throws: ProxmoxDeployer.Failure.self) { try await site.deploy(site.deployer()) }
        #expect(failure?.stage == .upload)
        #expect(failure?.message.contains("No space left on device") == true, "\(String(describing: failure))")
        #expect(site.fake.vms.isEmpty && site.fake.volumes.isEmpty)
    }

    @Test func aGuestAgentThatNeverAnswersTimesOutAndNothingIsLeft() async throws {
        var options = FakeProxmox.Options()
        options.agentUp = false
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        let failure = await #expect(throws: ProxmoxDeployer.Failure.self) { try await site.deploy(site.deployer(agentTimeout: .seconds(1))) }
        #expect(failure?.stage == .agent)
        #expect(site.fake.vms.isEmpty, "the half-made VM was destroyed")
        #expect(site.fake.volumes.isEmpty, "the uploaded volume was removed")
        #expect(site.fake.requests.contains { $0.hasPrefix("POST /nodes/pve1/qemu/100/status/stop") })
        #expect(site.fake.violations.isEmpty, "\(site.fake.violations)")
    }

    @Test func keepOnFailureLeavesTheVMForInspection() async throws {
        var options = FakeProxmox.Options()
        options.agentUp = false
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        _ = await #expect(throws: ProxmoxDeployer.Failure.self) { try await site.deploy(site.deployer(agentTimeout: .milliseconds(300), keep: true)) }
        #expect(site.fake.vms.count == 1)
    }

    @Test func aTicketWithItsCSRFTokenWorksAsWellAsAToken() async throws {
        let site = try await Self.site(password: true)
        defer { Task { await site.stop() } }
        _ = try await site.deploy(site.deployer())
        #expect(site.fake.violations.isEmpty, "\(site.fake.violations)")
    }

    @Test func withoutImportContentRootUploadsAsISOAndImportsFromThePath() async throws {
        var options = FakeProxmox.Options()
        options.storages["local"] = ["iso", "vztmpl"]
        options.tokenID = "root@pam!deploy"
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        _ = try await site.deploy(site.deployer())
        #expect(site.fake.vms.first?.config["scsi0"] == "local-lvm:0,import-from=/var/lib/vz/template/iso/arrow-task1234-web_01.img,discard=on")
        #expect(site.fake.volumes.isEmpty)
        #expect(site.fake.violations.isEmpty, "\(site.fake.violations)")
    }

    @Test func withoutImportContentAnotherUserIsToldWhatToChange() async throws {
        var options = FakeProxmox.Options()
        options.storages["local"] = ["iso", "vztmpl"]
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        let failure = await #expect(throws: ProxmoxDeployer.Failure.self) { try await site.deploy(site.deployer()) }
        #expect(failure?.message.contains("needs root@pam — enable import content on local") == true, "\(String(describing: failure))")
    }

    @Test func aPrivilegeSeparatedTokenWithoutACLsIsExplainedInPlainWords() async throws {
        var options = FakeProxmox.Options()
        options.permissions = [:]
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        let placement = ProxmoxDeployer.Placement(node: "pve1", importStorage: "local", diskStorage: "local-lvm")
        let check = await ServerCheck.run(client: site.client, placement: placement, identity: options.tokenID)
        #expect(!check.ok)
        #expect(check.problems.first?.contains("the API token arrow@pve!deploy has no permissions at all") == true, "\(check.problems)")
        #expect(check.problems.first?.contains("privsep") == true)
        // And a deployment with that token fails on PVE's own permission check.
        let failure = await #expect(throws: ProxmoxDeployer.Failure.self) { try await site.deploy(site.deployer()) }
        #expect(failure?.message.contains("Permission check failed (/storage/local") == true, "\(String(describing: failure))")
    }

    @Test func aPartialGrantNamesEachMissingPrivilegeAndWhy() async throws {
        var options = FakeProxmox.Options()
        options.permissions = ["/storage": ["Datastore.AllocateTemplate", "Datastore.Audit", "Datastore.AllocateSpace"], "/vms": ["VM.Audit"]]
        let site = try await Self.site(options)
        defer { Task { await site.stop() } }
        let check = await ServerCheck.run(client: site.client, placement: .init(node: "pve1", importStorage: "local", diskStorage: "local-lvm"), identity: options.tokenID)
        #expect(check.problems.contains { $0.contains("lacks VM.Allocate") && $0.contains("on /vms (needed to create the VM)") }, "\(check.problems)")
        #expect(check.problems.contains { $0.contains("lacks SDN.Use on /sdn/zones/localnetwork/vmbr0") }, "\(check.problems)")
        #expect(!check.problems.contains { $0.contains("/storage/") })
        #expect(check.version == "9.1.3 (release 9.1)")
    }

    @Test func aFullGrantChecksClean() async throws {
        let site = try await Self.site()
        defer { Task { await site.stop() } }
        let check = await ServerCheck.run(client: site.client, placement: .init(node: "pve1", importStorage: "local", diskStorage: "local-lvm"), identity: "arrow@pve!deploy")
        #expect(check.ok, "\(check.problems)")
        #expect(check.notes.contains { $0.contains("storage local on pve1: dir, content import,iso,snippets,vztmpl") }, "\(check.notes)")
    }

    @Test func aWrongSecretIsRefusedAndTheSecretIsNotRepeated() async throws {
        let site = try await Self.site()
        defer { Task { await site.stop() } }
        let wrong = try ProxmoxClient(baseURL: site.fake.url, authentication: .token(id: "arrow@pve!deploy", secret: "not-the-secret-0000"))
        defer { Task { await wrong.shutdown() } }
        let check = await ServerCheck.run(client: wrong, placement: .init(node: "pve1", importStorage: "local", diskStorage: "local-lvm"), identity: "arrow@pve!deploy")
        #expect(check.problems == ["Proxmox VE refused the credentials of arrow@pve!deploy (401): check the token id and secret"])
    }

    /// The fake is not a pushover: what PVE would refuse, it refuses and records.
    @Test func theFakeRefusesWhatPVERefuses() async throws {
        let site = try await Self.site()
        defer { Task { await site.stop() } }
        func create(_ change: (inout [(String, String)]) -> Void) async -> ProxmoxClient.Failure? {
            var form = VMParameters(name: "x", sshKeys: Self.keys).form(vmid: 150, diskStorage: "local-lvm", importFrom: "local:import/none.qcow2", bridge: "vmbr0", vlan: nil)
            change(&form)
            do { _ = try await site.client.createVM(node: "pve1", parameters: form); return nil } catch { return error as? ProxmoxClient.Failure }
        }
        // sshkeys encoded once only (the form layer alone): spaces reach PVE.
        let single = await create { form in form = form.map { $0.0 == "sshkeys" ? ($0.0, Self.keys.joined(separator: "\n")) : $0 } }
        #expect(single?.status == 400 && single?.errors["sshkeys"] != nil, "\(String(describing: single))")
        // import-from without the `STORAGE:0` syntax.
        let importSyntax = await create { form in form = form.map { $0.0 == "scsi0" ? ($0.0, "local-lvm:8,import-from=local:import/a.qcow2") : $0 } }
        #expect(importSyntax?.errors["scsi0"]?.contains("requires special syntax") == true, "\(String(describing: importSyntax))")
        // An unknown parameter, an enum outside its values, a bad id.
        let unknown = await create { $0.append(("colour", "blue")) }
        #expect(unknown?.errors["colour"] != nil)
        let scsihw = await create { form in form = form.map { $0.0 == "scsihw" ? ($0.0, "virtio") : $0 } }
        #expect(scsihw?.errors["scsihw"] != nil)
        let vmid = await create { form in form = form.map { $0.0 == "vmid" ? ($0.0, "99") : $0 } }
        #expect(vmid?.errors["vmid"] != nil)
        #expect(site.fake.violations.count == 5, "\(site.fake.violations)")
    }

    /// Uploads as PVE's parser takes them only: plain fields in its order, then the file, with a Content-Length.
    @Test func theFakeRefusesUploadsPVEWouldNot() async throws {
        let site = try await Self.site()
        defer { Task { await site.stop() } }
        let options = site.fake.options
        func upload(_ body: String, length: Bool) async throws -> Int {
            var request = HTTPClientRequest(url: site.fake.url + "/api2/json/nodes/pve1/storage/local/upload")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "PVEAPIToken=\(options.tokenID)=\(options.tokenSecret)")
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=B")
            let bytes = ByteBuffer(string: body)
            request.body = length ? .bytes(bytes) : .stream(AsyncStream { $0.yield(bytes); $0.finish() }, length: .unknown)
            return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
        }
        func part(_ name: String, _ value: String) -> String { "--B\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n" }
        let file = "--B\r\nContent-Disposition: form-data; name=\"filename\"; filename=\"a.qcow2\"\r\n\r\nDATA\r\n--B--\r\n"
        #expect(try await upload(part("checksum-algorithm", "sha256") + part("content", "import") + file, length: true) == 400)
        #expect(try await upload(part("content", "import") + file, length: false) == 501)
        #expect(try await upload(part("content", "import") + file.replacingOccurrences(of: "a.qcow2", with: "a.img"), length: true) == 400)
        #expect(try await upload(part("content", "import") + file, length: true) == 200)
        #expect(site.fake.violations.count == 3, "\(site.fake.violations)")
    }

    /// A node with its own self-signed certificate, reached by address: its pinned fingerprint is the trust; another
    /// fingerprint, or no pin and no CA, connects to nothing.
    @Test func aPinnedFingerprintTrustsExactlyThatCertificate() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        func openssl(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
        _ = try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", work + "/key.pem",
                         "-out", work + "/cert.pem", "-days", "2", "-subj", "/CN=pve1.example.internal"])
        let printed = try openssl(["x509", "-in", work + "/cert.pem", "-noout", "-fingerprint", "-sha256"])
        let fingerprint = try #require(printed.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        var options = FakeProxmox.Options()
        options.tlsCertificatePEM = try String(contentsOfFile: work + "/cert.pem", encoding: .utf8)
        options.tlsKeyPEM = try String(contentsOfFile: work + "/key.pem", encoding: .utf8)
        let fake = try await FakeProxmox.start(options)
        defer { Task { await fake.stop() } }
        #expect(fake.url.hasPrefix("https://127.0.0.1:"))
        let token = ProxmoxClient.Authentication.token(id: options.tokenID, secret: options.tokenSecret)

        let pinned = try await ProxmoxClient.connect(baseURL: fake.url, authentication: token, caPEM: nil, fingerprint: fingerprint)
        #expect(try await pinned.version() == "9.1.3 (release 9.1)")
        await pinned.shutdown()
        // Connected to a checked address: the name is the certificate's and resolves nowhere, so only the pinned
        // address (for the certificate's fetch and for the API calls) gets there.
        let named = fake.url.replacingOccurrences(of: "127.0.0.1", with: "pve1.example.internal")
        let byAddress = try await ProxmoxClient.connect(baseURL: named, authentication: token, caPEM: nil, fingerprint: fingerprint, connectTo: "127.0.0.1")
        #expect(try await byAddress.version() == "9.1.3 (release 9.1)")
        await byAddress.shutdown()

        let other = String(repeating: "ab", count: 32)
        await #expect(throws: CertificatePin.Failure.self) {
            _ = try await ProxmoxClient.connect(baseURL: fake.url, authentication: token, caPEM: nil, fingerprint: other)
        }
        let unpinned = try ProxmoxClient(baseURL: fake.url, authentication: token)
        await #expect(throws: ProxmoxClient.Failure.self) { _ = try await unpinned.version() }
        await unpinned.shutdown()
        #expect(fake.requests.count == 2, "only the pinned clients got through: \(fake.requests)")
    }

    @Test func upidsAreParsedAsPVEWritesThem() {
        let upid = UPID("UPID:pve-api:00001001:00001234:67890ABC:imgcopy::arrow@pve!deploy:")
        #expect(upid?.node == "pve-api" && upid?.type == "imgcopy")
        #expect(UPID("UPID:pve1:0001001:00001234:67890ABC:qmcreate:100:root@pam:") == nil, "pid must be 8 hex digits")
        #expect(UPID("UPID:pve1:00001001:00001234:67890ABC:qmcreate:100:root@pam") == nil, "the trailing colon")
        #expect(UPID("UPID:-pve:00001001:00001234:67890ABC:qmcreate:100:root@pam:") == nil)
    }

    @Test func vmParametersFollowPVEsFormats() {
        #expect(VMParameters.dnsName("Web Server_01.example.org") == "Web-Server-01.example.org")
        #expect(VMParameters.dnsName("---") == "arrow-vm")
        #expect(VMParameters.urlencoded("ssh-ed25519 AAA+/= a@b\nssh-rsa B") == "ssh-ed25519%20AAA%2B%2F%3D%20a%40b%0Assh-rsa%20B")
        let form = VMParameters(name: "n", tags: ["+bad", "ok.tag"], ipConfig: "ip=10.0.0.5/24,gw=10.0.0.1", nameservers: ["10.0.0.2"], userDataSnippet: "local:snippets/u.yaml")
            .form(vmid: 100, diskStorage: "ceph", importFrom: "local:import/a.qcow2", bridge: "vmbr1", vlan: nil)
        let fields = Dictionary(form, uniquingKeysWith: { $1 })
        #expect(fields["tags"] == "bad;ok.tag" && fields["net0"] == "virtio,bridge=vmbr1" && fields["cicustom"] == "user=local:snippets/u.yaml")
        #expect(fields["nameserver"] == "10.0.0.2" && fields["ipconfig0"] == "ip=10.0.0.5/24,gw=10.0.0.1")
    }
}

enum SHA256Hex {
    static func of(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}
