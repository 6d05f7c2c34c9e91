@testable import ArrowBuilder
import ArrowClient
import ArrowProtocol
import Foundation
import Testing

@Suite struct NetworkConfigTests {
    typealias Settings = ClientConfigDocument.NetworkSettings
    let fixed = Settings(interface: "eth1", mode: "static", address: "10.0.0.5/24", gateway: "10.0.0.1", dns: ["10.0.0.53", "1.1.1.1"])

    @Test func staticAddressesForEveryStack() {
        let netplan = NetworkConfig.render(fixed, stack: .netplan, interface: "ens3")
        #expect(netplan.path == "/etc/netplan/90-arrow.yaml" && netplan.mode == "0600")
        #expect(netplan.content.contains("    eth1:\n      dhcp4: false\n      addresses: [10.0.0.5/24]\n      routes:\n        - to: default\n          via: 10.0.0.1"))
        #expect(netplan.content.contains("addresses: [10.0.0.53, 1.1.1.1]"))
        let manager = NetworkConfig.render(fixed, stack: .networkManager, interface: "ens3")
        #expect(manager.content.contains("method=manual\naddress1=10.0.0.5/24,10.0.0.1") && manager.content.contains("dns=10.0.0.53;1.1.1.1;"))
        #expect(manager.mode == "0600", "NetworkManager ignores connection files others can read")
        let networkd = NetworkConfig.render(fixed, stack: .networkd, interface: "ens3")
        #expect(networkd.content == "[Match]\nName=eth1\n\n[Network]\nAddress=10.0.0.5/24\nGateway=10.0.0.1\nDNS=10.0.0.53\nDNS=1.1.1.1\n")
        let ifupdown = NetworkConfig.render(fixed, stack: .ifupdown, interface: "ens3")
        #expect(ifupdown.content == "auto eth1\niface eth1 inet static\n    address 10.0.0.5/24\n    gateway 10.0.0.1\n    dns-nameservers 10.0.0.53 1.1.1.1\n")
    }

    @Test func dhcpOnTheDefaultInterface() {
        let dhcp = Settings(dns: ["9.9.9.9"])
        #expect(NetworkConfig.render(dhcp, stack: .networkd, interface: "ens3").content == "[Match]\nName=ens3\n\n[Network]\nDHCP=yes\nDNS=9.9.9.9\n")
        #expect(NetworkConfig.render(dhcp, stack: .ifupdown, interface: "ens3").content == "auto ens3\niface ens3 inet dhcp\n")
    }

    @Test func hostsGetsTheNameOnDebiansLine() {
        #expect(NetworkConfig.hosts("127.0.0.1\tlocalhost\n127.0.1.1\told\n::1 localhost\n", hostname: "lab", domain: "example.org")
            == "127.0.0.1\tlocalhost\n127.0.1.1\tlab.example.org lab\n::1 localhost\n")
        #expect(NetworkConfig.hosts("127.0.0.1 localhost\n::1 localhost\n", hostname: "lab", domain: nil)
            == "127.0.0.1 localhost\n127.0.1.1\tlab\n::1 localhost\n")
    }
}

@Suite struct AnsiblePlanTests {
    @Test func rolesFromSoftwareThenFlags() {
        let software = [SoftwareSpec(name: "nmap", ansibleRole: "security-tools"), SoftwareSpec(name: "curl"),
                        SoftwareSpec(name: "burpsuite", version: "2023.10", ansibleRole: "web-testing"),
                        SoftwareSpec(name: "masscan", ansibleRole: "security-tools")]
        let client = ClientConfigDocument(vpnConfig: .init(managementUrl: "https://nb.example.org", setupKey: "SECRET-KEY", packageRepository: "http://repo/ stable main"))
        let plays = AnsiblePlan.plays(software: software, flags: ["harden_ssh": true, "install_vpn": true, "install_monitoring": false,
                                                                  "apply_branding": true], client: client,
                                      branding: ["branding_login_banner": .bool(true)])
        #expect(plays.map(\.role) == ["security-tools", "web-testing", "harden_ssh", "install_vpn", "apply_branding"])
        #expect(plays[4].vars == ["branding_login_banner": .bool(true)], "branding runs last, with the staged files")
        #expect(plays[0].vars["arrow_software"] == .array([
            .object(["name": .string("nmap"), "version": .string("latest")]), .object(["name": .string("masscan"), "version": .string("latest")]),
        ]))
        #expect(plays[3].vars["netbird_repository"] == .string("http://repo/ stable main"))
        #expect(!plays.contains { "\($0.vars)".contains("SECRET-KEY") }, "no setup key reaches a role: enrollment happens at first boot")
    }

    @Test func brandingBecomesFilesForTheRole() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3])
        let branding = ClientConfigDocument.Branding(organizationName: "O'Neil Labs", motd: "Welcome", loginBanner: "Authorized use only\n",
                                                     logoBase64: png.base64EncodedString(), wallpaperBase64: "not base64!")
        let files = Branding.files(branding)
        #expect(files.map(\.destination) == ["/etc/motd", "/etc/issue.net", "/usr/share/arrow/branding/logo.png",
                                             "/usr/share/arrow/branding/branding.env"], "no issue given, a wallpaper that does not decode is left out")
        #expect(files[0].bytes == Data("Welcome\n".utf8) && files[1].bytes == Data("Authorized use only\n".utf8) && files[2].bytes == png)
        #expect(String(decoding: files[3].bytes, as: UTF8.self)
            == "ORGANIZATION='O'\\''Neil Labs'\nPRIMARY_COLOR=''\nLOGO=/usr/share/arrow/branding/logo.png\n")

        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("branding-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let vars = try Branding.stage(branding, into: staging)
        #expect(vars["branding_login_banner"] == .bool(true))
        guard case .array(let staged)? = vars["branding_files"], case .object(let logo) = staged[2] else { Issue.record("\(vars)"); return }
        #expect(logo == ["src": .string(staging + "/logo.png"), "dest": .string("/usr/share/arrow/branding/logo.png")])
        #expect(FileManager.default.contents(atPath: staging + "/logo.png") == png)
    }

    @Test func failingTasksAreNamed() async {
        let tracker = TaskTracker()
        for line in ["PLAY [arrow-imaging]", "TASK [Gathering Facts]", "ok: [image]", "TASK [security-tools : Install the security tools]",
                     "fatal: [image]: FAILED! => {\"msg\": \"No package matching 'nope'\"}", "PLAY RECAP"] {
            await tracker.see(line)
        }
        #expect(await tracker.failedTask == "'security-tools : Install the security tools'")
    }
}

@Suite struct ContentsTests {
    typealias P = Contents.Package

    @Test func addedRemovedAndChanged() {
        let base = [P(name: "bash", version: "5.2", architecture: "amd64"), P(name: "vim-tiny", version: "9.0", architecture: "amd64"),
                    P(name: "openssl", version: "3.0.1", architecture: "amd64")]
        let built = [P(name: "bash", version: "5.2", architecture: "amd64"), P(name: "nmap", version: "7.93", architecture: "amd64"),
                     P(name: "openssl", version: "3.0.2", architecture: "amd64")]
        let diff = Contents.difference(from: base, to: built)
        #expect(diff.added.map(\.name) == ["nmap"] && diff.removed.map(\.name) == ["vim-tiny"])
        #expect(diff.changed == [BuildProvenance.Change(name: "openssl", from: "3.0.1", to: "3.0.2")])
    }

    @Test func mountinfoEscapesAreUndone() {
        #expect(Leftovers.unescape(#"/var/tmp/arrow\040builder/t1/mnt"#) == "/var/tmp/arrow builder/t1/mnt")
        #expect(Leftovers.unescape("/plain") == "/plain")
    }
}

/// The task log's rules against a recording sink: numbered chunks, redaction, retry of a failed POST.
@Suite struct TaskLogTests {
    actor Sink: TaskLogSink {
        var chunks: [TaskLogUpload] = []
        var failures = 0
        func failNext(_ count: Int) { failures = count }
        func appendLog(_ chunk: TaskLogUpload) async throws {
            if failures > 0 {
                failures -= 1
                throw URLError(.networkConnectionLost)
            }
            chunks.append(chunk)
        }
    }

    @Test func chunksAreNumberedPerFileAndSecretsRedacted() async {
        let sink = Sink()
        let log = TaskLog(sink: sink, lease: APIClient.Lease(taskID: "t", attempt: 2, token: "lease-token-value-123"))
        await log.redact(["SETUP-KEY-9f", "ab"])
        await log.line(.download, "key SETUP-KEY-9f and lease-token-value-123 and ab")
        await log.flushAll()
        await log.line(.download, "second")
        await log.line(.ansible, "other file")
        await log.close()
        let chunks = await sink.chunks
        #expect(chunks.map { "\($0.file)#\($0.sequence)" } == ["download#0", "download#1", "ansible#0"])
        #expect(chunks[0].content == "key [redacted] and [redacted] and ab\n", "short values are not redacted (they would garble lines)")
        #expect(chunks.allSatisfy { $0.attempt == 2 && $0.taskId == "t" })
    }

    @Test func aChunkThatCannotBeSentIsKeptAndSentWithItsNumberLater() async {
        let sink = Sink()
        let log = TaskLog(sink: sink, lease: APIClient.Lease(taskID: "t", attempt: 1, token: "lease-token-value-123"))
        await sink.failNext(3)
        await log.line(.summary, "first")
        await log.flushAll()
        #expect(await sink.chunks.isEmpty)
        await log.line(.summary, "second")
        await log.close()
        let chunks = await sink.chunks
        #expect(chunks.count == 1 && chunks[0].sequence == 0 && chunks[0].content == "first\nsecond\n")
    }
}

@Suite struct OSReleaseTests {
    @Test func theCacheKeyNamesTheReleaseSafely() {
        let debian = OSRelease.parse("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n")
        #expect(debian == OSRelease(id: "debian", versionID: "12", prettyName: "Debian GNU/Linux 12 (bookworm)"))
        #expect(debian.cacheKey == "debian-12")
        #expect(OSRelease.parse("ID=../../etc\nVERSION_ID=1/2").cacheKey == ".._.._etc-1_2")
        #expect(OSRelease.parse("").cacheKey == "unknown-rolling")
    }
}
