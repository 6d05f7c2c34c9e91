import ArrowTesting
import Foundation
import Testing

/// The `proxmox` target end to end: `arrow build-server add` and `check` against the loopback fake PVE, a build that
/// names it, `arrow builder` deploying the real artifact there (upload with its checksum, VM created from it,
/// started, its addresses read), and the device request's settings saying where it runs.
extension BuilderEndToEndTests {
    @Test func aBuildDeploysItsArtifactToProxmoxAndTheDeviceRecordsWhereItRuns() async throws {
        // Trace level everywhere: no secret may appear in a log at any level.
        let world = try await World.make(serverEnvironment: ["ARROW_LOG_LEVEL": "trace"])
        defer { _ = try? world.server.terminate() }
        // The VM's first boot, played by the fake: cloud-init writes the snippet's files, the install_vpn role's
        // first-boot unit joins NetBird with the key as the host name it was given.
        let snippets = world.installation.dataDir + "/snippets"
        try FileManager.default.createDirectory(atPath: snippets, withIntermediateDirectories: true)
        var pveOptions = FakeProxmox.Options()
        pveOptions.snippetsDirectory = snippets
        let netbirdURL = world.netbird.url
        pveOptions.onStart = { vm in
            guard let volume = vm.config["cicustom"]?.components(separatedBy: "snippets/").last,
                  let text = try? String(contentsOfFile: snippets + "/" + volume, encoding: .utf8),
                  let document = try? JSONSerialization.jsonObject(with: Data(text.dropFirst("#cloud-config\n".count).utf8)) as? [String: Any],
                  let files = document["write_files"] as? [[String: Any]] else { return }
            let key = files.first { $0["path"] as? String == "/etc/arrow/netbird-setup-key" }?["content"] as? String ?? ""
            let environment = files.first { $0["path"] as? String == "/etc/arrow/netbird-enroll.env" }?["content"] as? String ?? ""
            let hostname = environment.split(separator: "\n").first { $0.hasPrefix("NETBIRD_HOSTNAME=") }?.dropFirst("NETBIRD_HOSTNAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) ?? ""
            _ = await HTTP.send("POST", netbirdURL + "/test/join", token: nil, json: #"{"setup_key":"\#(key.trimmingCharacters(in: .whitespacesAndNewlines))","hostname":"\#(hostname)"}"#)
        }
        let pve = try await FakeProxmox.start(pveOptions)
        defer { Task { await pve.stop() } }
        let options = pve.options
        let secretFile = world.installation.dataDir + "/pve-secret"
        try options.tokenSecret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let (added, addOut, addErr) = try ArrowProcess.run(["build-server", "add", "pve-fake", "--url", pve.url, "--token-id", options.tokenID,
                                                            "--token-secret-file", secretFile, "--node", options.node, "--import-storage", "local",
                                                            "--snippets-storage", "local", "--snippets-directory", snippets],
                                                           environment: world.env)
        #expect(added == 0, "\(addOut)\(addErr)")
        let (checked, checkOut, _) = try ArrowProcess.run(["build-server", "check", "pve-fake"], environment: world.env)
        #expect(checked == 0 && checkOut.contains("ok: deployments to pve-fake can run"), "\(checkOut)")
        let (_, listed, _) = try ArrowProcess.run(["build-server", "list"], environment: world.env)
        #expect(listed.contains("pve-fake") && !listed.contains(options.tokenSecret))

        // Through the ARROW platform's trigger, so the deployment lands on a device request.
        let body = #"{"request_id":"dr-pve-1","device_type":"vm","images":[{"id":"\#(world.image)","name":"debian-base"}],"organization":"\#(world.organization)","client":"lab","timestamp":"2026-12-01T10:00:00Z"}"#
        let config = await HTTP.send("PUT", "\(world.installation.base)/api/organizations/\(world.organization)/client-config", token: world.installation.token,
                                     json: #"{"deployment":{"target":"proxmox","build_server_id":"pve-fake"},"users":[{"name":"operator","ssh_authorized_keys":["\#(Self.key)"],"sudo":true}],"vpn_config":{"management_url":"http://10.0.2.2:\#(world.netbird.port)","package_repository":"\#(world.files.url)/ ./","api_url":"\#(world.netbird.url)","api_token":"\#(Self.netbirdToken)","groups":["builds"]}}"#)
        #expect(config?.0 == 200, "\(String(decoding: config?.2 ?? Data(), as: UTF8.self))")
        // The platform's trigger has no build options: the image's metadata asks for the VPN.
        let flagged = await HTTP.send("PATCH", "\(world.installation.base)/api/vm_images/\(world.image)", token: world.installation.token,
                                      json: #"{"ansible_flags":{"install_vpn":true}}"#)
        #expect(flagged?.0 == 200, "\(String(decoding: flagged?.2 ?? Data(), as: UTF8.self))")
        let triggered = await HTTP.send("POST", "\(world.installation.base)/api/vm-imaging/trigger", token: world.installation.token, json: body)
        #expect(triggered?.0 == 201, "\(String(decoding: triggered?.2 ?? Data(), as: UTF8.self))")
 
        let (status, out, err) = try ArrowProcess.run(world.builderArguments(name: "pve") + ["--build-servers", "pve-fake"],
                                                      environment: try world.builderEnvironment().merging(["ARROW_LOG_LEVEL": "trace"]) { $1 })
        #expect(status == 0, "\((out + err).suffix(3000))")

        let request = await HTTP.send("GET", "\(world.installation.base)/api/device-requests/dr-pve-1", token: world.installation.token)
        let shown = try #require(try JSONSerialization.jsonObject(with: request?.2 ?? Data()) as? [String: Any])
        #expect(shown["status"] as? String == "ready", "\(shown)")
        let settings = try #require(shown["device_settings"] as? [String: Any], "\(shown)")
        #expect(settings["vm_id"] as? Int == 100 && settings["node"] as? String == "pve1" && settings["build_server_id"] as? String == "pve-fake")
        #expect(settings["address"] as? String == "192.0.2.50")
        let task = try #require((shown["tasks"] as? [[String: Any]])?.first)
        let taskID = try #require(task["id"] as? String)
        #expect(settings["image_id"] as? String == task["artifact_image_id"] as? String)
        // Enrolled at first boot: the peer recorded, its key revoked, the snippet gone from the VM and the storage.
        let peer = try #require(world.netbird.peers.first, "no NetBird peer registered")
        #expect(settings["vpn_peer_id"] as? String == peer.id && settings["vpn_address"] as? String == peer.ip, "\(settings)")
        #expect(world.netbird.keys.count == 1 && world.netbird.keys.allSatisfy(\.revoked) && world.netbird.keys.first?.usedTimes == 1)
        #expect(world.netbird.violations.isEmpty, "\(world.netbird.violations)")
        #expect(pve.vms.first?.config["cicustom"] == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: snippets).isEmpty)

        // On the fake: one running VM made from the uploaded artifact, the upload removed after the import, nothing
        // PVE would have refused.
        #expect(pve.violations.isEmpty, "\(pve.violations)")
        let vm = try #require(pve.vms.first)
        #expect(vm.running && vm.config["name"]?.hasPrefix("arrow-") == true, "\(vm.config)")
        #expect(vm.config["scsi0"]?.hasPrefix("local-lvm:0,import-from=local:import/arrow-") == true, "\(vm.config)")
        #expect(vm.config["sshkeys"]?.removingPercentEncoding == Self.key)
        #expect(pve.volumes.isEmpty)
        let deploy = try ArrowProcess.run(["build", "logs", taskID, "--file", "deploy"], environment: world.env).1
        #expect(deploy.contains("[imgcopy] calculating checksum...OK, checksum verified") && deploy.contains("VM 100 addresses: 192.0.2.50"), "\(deploy)")
        for log in ["download", "ansible", "deploy", "summary"] {
            let text = try ArrowProcess.run(["build", "logs", taskID, "--file", log], environment: world.env).1
            #expect(!text.contains(options.tokenSecret), "the token secret in \(log).log")
            #expect(!text.contains(Self.netbirdToken) && !(world.netbird.keys.first.map { text.contains($0.key) } ?? false), "a NetBird secret in \(log).log")
        }
        // Nor in what the server and the builder printed, at any level.
        let serverLog = (try? String(contentsOfFile: world.installation.dataDir + "/serve.log", encoding: .utf8)) ?? ""
        #expect(!serverLog.isEmpty)
        for printed in [serverLog, out + err] {
            #expect(!printed.contains(options.tokenSecret) && !printed.contains(Self.netbirdToken))
            #expect(!(world.netbird.keys.first.map { printed.contains($0.key) } ?? false))
        }
        #expect(Mounts.clean(), "a loop device or a mount was left behind: \(Mounts.describe())")
    }
}

extension BuilderEndToEndTests {
    /// `arrow deploy`: an image deployed as it is, by a builder, from the deployment phase (nothing is built); the
    /// deployment is kept with the image.
    @Test func arrowDeployPutsAnImageOnProxmoxWithoutABuild() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let pve = try await FakeProxmox.start()
        defer { Task { await pve.stop() } }
        let taskID = try await Self.deployAsIs(world, to: pve, vmName: "as-is")
        let (status, builderOut, builderErr) = try ArrowProcess.run(world.builderArguments(name: "deployer") + ["--build-servers", "pve-fake"],
                                                                    environment: try world.builderEnvironment())
        #expect(status == 0, "\((builderOut + builderErr).suffix(3000))")
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "succeeded" && task["artifact_image_id"] as? String == world.image, "\(task)")
        #expect(pve.vms.first?.config["name"] == "as-is" && pve.violations.isEmpty, "\(pve.violations)")
        let summary = try ArrowProcess.run(["build", "logs", taskID, "--file", "download"], environment: world.env).1
        #expect(summary.contains("resuming at deployment"), "\(summary)")
        let ansible = try ArrowProcess.run(["build", "logs", taskID, "--file", "ansible"], environment: world.env).1
        #expect(!ansible.contains("PLAY"), "nothing was built")
        let contents = await HTTP.send("GET", "\(world.installation.base)/api/vm_images/\(world.image)/contents", token: world.installation.token)
        let provenance = try #require(try JSONSerialization.jsonObject(with: contents?.2 ?? Data()) as? [String: Any])
        #expect((provenance["deployment"] as? [String: Any])?["vmid"] as? Int == 100, "\(provenance)")
        // A build option cannot ask for it: deploy_only is not a build option.
        let (refused, _, refusal) = try ArrowProcess.run(["build", "trigger", world.image, "--options", #"{"deploy_only":true}"#], environment: world.env)
        #expect(refused != 0 && refusal.contains("unknown_build_option"), "\(refusal)")
    }
}

extension BuilderEndToEndTests {
    /// Registers `pve` as the organization's build server `pve-fake` and asks `arrow deploy` to put the world's image
    /// there as `vmName`; the task's id.
    static func deployAsIs(_ world: World, to pve: FakeProxmox, vmName: String) async throws -> String {
        let options = pve.options
        let server = #"{"id":"pve-fake","url":"\#(pve.url)","token_id":"\#(options.tokenID)","token_secret":"\#(options.tokenSecret)","node":"pve1","import_storage":"local"}"#
        let added = await HTTP.send("POST", "\(world.installation.base)/api/organizations/\(world.organization)/build-servers", token: world.installation.token, json: server)
        #expect(added?.0 == 201)
        let (deployed, out, err) = try ArrowProcess.run(["deploy", world.image, "--target", "proxmox", "--server", "pve-fake", "--vm-name", vmName],
                                                        environment: world.env)
        #expect(deployed == 0, "\(err)")
        return try #require(out.split(separator: "\n").last.map(String.init))
    }

    /// A builder told which networks build servers live in connects nowhere else: a registered server outside them
    /// ends the task `config_invalid` at deployment, naming the setting, and the server hears nothing.
    @Test func aBuilderDeploysOnlyIntoItsBuildServerNetworks() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        let pve = try await FakeProxmox.start()
        defer { Task { await pve.stop() } }
        let taskID = try await Self.deployAsIs(world, to: pve, vmName: "fenced")
        _ = try ArrowProcess.run(world.builderArguments(name: "fenced") + ["--build-servers", "pve-fake", "--build-server-networks", "10.0.0.0/8"],
                                 environment: try world.builderEnvironment())
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "failed" && task["error_code"] as? String == "config_invalid", "\(task)")
        #expect((task["error_message"] as? String)?.contains("--build-server-networks") == true, "\(task)")
        #expect(pve.requests.isEmpty, "the build server outside the networks was reached: \(pve.requests)")
    }

    /// A VM whose guest agent never answers: the deployment ends `boot_timeout`, and nothing is left on the server —
    /// no VM, no uploaded volume.
    @Test func aGuestAgentThatNeverAnswersEndsBootTimeoutAndLeavesNothingOnProxmox() async throws {
        let world = try await World.make()
        defer { _ = try? world.server.terminate() }
        var pveOptions = FakeProxmox.Options()
        pveOptions.agentUp = false
        let pve = try await FakeProxmox.start(pveOptions)
        defer { Task { await pve.stop() } }
        let options = pve.options
        let server = #"{"id":"pve-fake","url":"\#(pve.url)","token_id":"\#(options.tokenID)","token_secret":"\#(options.tokenSecret)","node":"pve1","import_storage":"local"}"#
        #expect(await HTTP.send("POST", "\(world.installation.base)/api/organizations/\(world.organization)/build-servers", token: world.installation.token,
                                json: server)?.0 == 201)
        let (_, out, _) = try ArrowProcess.run(["deploy", world.image, "--target", "proxmox", "--server", "pve-fake"], environment: world.env)
        let taskID = try #require(out.split(separator: "\n").last.map(String.init))
        _ = try ArrowProcess.run(world.builderArguments(name: "agentless") + ["--build-servers", "pve-fake", "--boot-timeout", "3"],
                                 environment: try world.builderEnvironment())
        let task = try await world.task(taskID)
        #expect(task["status"] as? String == "failed" && task["error_code"] as? String == "boot_timeout", "\(task)")
        #expect(pve.vms.isEmpty && pve.volumes.isEmpty, "left on the server: \(pve.vms.map(\.vmid)) \(pve.volumes.map(\.volid))")
        #expect(pve.requests.contains { $0.hasPrefix("DELETE /nodes/pve1/qemu/100") })
        #expect(pve.violations.isEmpty, "\(pve.violations)")
        let deploy = try ArrowProcess.run(["build", "logs", taskID, "--file", "deploy"], environment: world.env).1
        #expect(deploy.contains("rolling back: stopping and destroying VM 100") && deploy.contains("did not answer within"), "\(deploy)")
    }
}
