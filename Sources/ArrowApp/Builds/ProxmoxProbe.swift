import ArrowBuilds
import ArrowCore
import ArrowNetwork
import ArrowProtocol
import ArrowProxmox
import Foundation

/// `arrow build-server check` on the server's side: read-only calls to the registered endpoint (``ServerCheck``).
/// The endpoint's address is checked first (``OutboundAddressPolicy``: an organization admin names the URL) and the
/// connection pinned to it.
struct ProxmoxProbe: BuildServerProbe {
    let addresses: OutboundAddressPolicy

    func check(_ settings: BuildServer.Settings, tokenSecret: String) async -> BuildServerCheck {
        let address: IPAddress?
        switch await addresses.decide(url: settings.url) {
        case .connect(let checked): address = checked
        case .refused(let reason): return BuildServerCheck(ok: false, version: nil, problems: [reason], notes: [])
        case .unresolved(let reason): return BuildServerCheck(ok: false, version: nil, problems: ["\(reason): check the url"], notes: [])
        }
        let client: ProxmoxClient
        do {
            client = try await ProxmoxClient.connect(baseURL: settings.url, authentication: .token(id: settings.tokenId, secret: tokenSecret),
                                                     caPEM: settings.caPem, fingerprint: settings.tlsFingerprint, connectTo: address?.description)
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
