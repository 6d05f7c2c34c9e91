import ArrowProtocol
import AsyncHTTPClient
import Foundation

/// NetBird enrollment at first boot (`install_vpn`): the setup key and the enrollment's settings reach the machine
/// only through cloud-init at deployment, as files the install_vpn role's first-boot unit reads (it deletes the key
/// whether enrollment worked or not). With the organization's management API configured, each deployment gets its
/// own one-off key with a short expiry, joining the organization's groups (resolved by name to ids); afterwards the
/// peer it registered is found by host name and creation time, the key is revoked, and the peer of a test boot (or of
/// a failed deployment) is deleted. Without the API, the organization's configured key is delivered as it is.
/// The host name NetBird registers is the machine's own plus the task's first eight characters, so two machines
/// built alike never collide.
struct Enrollment {
    static let keyFile = "/etc/arrow/netbird-setup-key"
    static let environmentFile = "/etc/arrow/netbird-enroll.env"
    /// The shortest expiry NetBird's published API allows (its OpenAPI document's minimum for `expires_in`); the key
    /// is one-off and revoked as soon as the deployment is done with it, so its lifetime rarely matters.
    static let keyLifetime = 86400

    let files: [NoCloudSeed.File]
    let peerName: String
    let api: NetBirdClient?
    let key: NetBirdClient.SetupKey?
    let groups: [String]
    let since: Date

    /// What to deliver, or nil when the build does not install the VPN or the organization has no way to enroll.
    static func prepare(image: ImageConfigDocument, client: ClientConfigDocument, http: HTTPClient) async throws -> Enrollment? {
        guard image.ansibleFlags["install_vpn"] == true, let vpn = client.vpnConfig, let url = vpn.managementUrl else { return nil }
        let name = peerName(image)
        let since = Date()
        var api: NetBirdClient?
        var created: NetBirdClient.SetupKey?
        var groups: [String] = []
        let key: String
        if let apiURL = vpn.apiUrl, let token = vpn.apiToken, !token.isEmpty {
            let client = NetBirdClient(http: http, baseURL: apiURL, token: token)
            do {
                groups = try await client.groupIDs(vpn.groups ?? [])
                created = try await client.createOneOffKey(name: "arrow-" + name, groups: groups, expiresIn: keyLifetime)
            } catch {
                throw BuildFailure(.vpnEnrollFailed, "\(error)", log: "deploy")
            }
            api = client
            key = created!.key
        } else if let configured = vpn.setupKey, !configured.isEmpty {
            key = configured
        } else {
            return nil
        }
        let files = [
            NoCloudSeed.File(path: keyFile, content: key + "\n"),
            NoCloudSeed.File(path: environmentFile, content: "NETBIRD_MANAGEMENT_URL=\"\(url)\"\nNETBIRD_HOSTNAME=\"\(name)\"\n"),
        ]
        return Enrollment(files: files, peerName: name, api: api, key: created, groups: groups, since: since)
    }

    static func peerName(_ image: ImageConfigDocument) -> String {
        let task = image.taskId.prefix(8).lowercased()
        let host = image.hostname.split(separator: ".").first.map(String.init) ?? image.hostname
        // A host name derived from the task id already carries it.
        return host.hasSuffix(task) ? host : host + "-" + task
    }

    /// What the boot test checks: the machine enrolled and the key is gone.
    static let checks = [
        VerificationCheck(name: "NetBird enrolled at first boot", command: ["netbird", "status"], expect: ["Management: Connected"]),
        VerificationCheck(name: "the setup key was consumed", command: ["sh", "-c", "! test -e \(keyFile)"]),
    ]

    /// After the boot: the peer the key registered (a check of its own), the key revoked, and the peer deleted unless
    /// `keepPeer` (a test boot's machine is gone; a failed deployment's must not linger). Never throws: whatever it
    /// could not undo is logged.
    func finish(keepPeer: Bool, log: @Sendable (String) async -> Void) async -> ImageVerification.Check? {
        await finishWithPeer(keepPeer: keepPeer, log: log).check
    }

    /// ``finish(keepPeer:log:)`` with the peer found (its id and overlay address), polling up to `wait` for it to appear.
    func finishWithPeer(keepPeer: Bool, wait: Duration = .zero, log: @Sendable (String) async -> Void)
        async -> (check: ImageVerification.Check?, peer: NetBirdClient.Peer?) {
        guard let api else { return (nil, nil) }
        var check: ImageVerification.Check?
        var found: NetBirdClient.Peer?
        do {
            var peers = try await api.peers(hostname: peerName, since: since)
            let deadline = ContinuousClock.now + wait
            while peers.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(2))
                peers = try await api.peers(hostname: peerName, since: since)
            }
            found = peers.first
            if let peer = peers.first {
                check = ImageVerification.Check(name: "NetBird peer registered", passed: true, output: "peer \(peer.id) at \(peer.ip) as \(peerName)")
                await log("NetBird peer \(peer.id) at \(peer.ip) registered as \(peerName)")
            } else {
                check = ImageVerification.Check(name: "NetBird peer registered", passed: false, output: "no peer named \(peerName) registered since the key was made")
            }
            if !keepPeer {
                for peer in peers {
                    try await api.deletePeer(peer.id)
                    await log("NetBird peer \(peer.id) deleted (the machine it enrolled does not stay)")
                }
            }
        } catch {
            await log("NetBird: \(error)")
        }
        if let key {
            do {
                try await api.revoke(key, groups: groups)
                await log("NetBird setup key \(key.id) revoked")
            } catch {
                await log("NetBird: could not revoke setup key \(key.id) (it expires within \(Self.keyLifetime / 3600) hours): \(error)")
            }
        }
        return (check, found)
    }
}

extension ClientConfigDocument {
    /// Every secret value the builder holds for this organization: redacted from logs and check outputs.
    var secrets: [String] {
        [vpnConfig?.setupKey, vpnConfig?.apiToken].compactMap { $0 } + (users ?? []).compactMap(\.passwordHash)
    }
}
