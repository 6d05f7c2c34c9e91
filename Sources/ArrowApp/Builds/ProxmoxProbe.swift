import ArrowBuilds
import ArrowCore
import ArrowProtocol
import ArrowProxmox
import Foundation

/// `arrow build-server check` on the server's side: read-only calls to the registered endpoint (``ServerCheck``).
struct ProxmoxProbe: BuildServerProbe {
    func check(_ settings: BuildServer.Settings, tokenSecret: String) async -> BuildServerCheck {
        let client: ProxmoxClient
        do {
            client = try await ProxmoxClient.connect(baseURL: settings.url, authentication: .token(id: settings.tokenId, secret: tokenSecret),
                                                     caPEM: settings.caPem, fingerprint: settings.tlsFingerprint)
        } catch {
            return BuildServerCheck(ok: false, version: nil, problems: ["TLS: \(error)"], notes: [])
        }
        let placement = ProxmoxDeployer.Placement(node: settings.node, importStorage: settings.importStorage, diskStorage: settings.diskStorage,
                                                  bridge: settings.bridge, vlan: settings.vlan)
        let result = await ServerCheck.run(client: client, placement: placement, identity: settings.tokenId, snippetsStorage: settings.snippetsStorage)
        await client.shutdown()
        // PVE's answers never carry the secret; this makes sure of it.
        let scrub = { (text: String) in text.replacingOccurrences(of: tokenSecret, with: "[secret]") }
        return BuildServerCheck(ok: result.ok, version: result.version, problems: result.problems.map(scrub), notes: result.notes.map(scrub))
    }
}
