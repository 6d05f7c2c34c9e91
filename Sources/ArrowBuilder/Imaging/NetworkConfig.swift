import ArrowProtocol
import Foundation

/// The network settings rendered for whichever network stack an image uses. Pure: each renderer is tested.
enum NetworkConfig {
    enum Stack: String, Sendable { case netplan, networkManager = "NetworkManager", networkd = "systemd-networkd", ifupdown }

    struct Rendered: Equatable {
        var path: String
        var content: String
        var mode: String
    }

    static func render(_ settings: ClientConfigDocument.NetworkSettings, stack: Stack, interface fallback: String) -> Rendered {
        let interface = settings.interface ?? fallback
        let isStatic = settings.mode == "static"
        let dns = settings.dns ?? []
        switch stack {
        case .netplan:
            var lines = ["network:", "  version: 2", "  ethernets:", "    \(interface):"]
            if isStatic {
                lines += ["      dhcp4: false", "      addresses: [\(settings.address ?? "")]"]
                if let gateway = settings.gateway { lines += ["      routes:", "        - to: default", "          via: \(gateway)"] }
            } else {
                lines += ["      dhcp4: true"]
            }
            if !dns.isEmpty { lines += ["      nameservers:", "        addresses: [\(dns.joined(separator: ", "))]"] }
            return Rendered(path: "/etc/netplan/90-arrow.yaml", content: lines.joined(separator: "\n") + "\n", mode: "0600")
        case .networkManager:
            var lines = ["[connection]", "id=arrow-\(interface)", "type=ethernet", "interface-name=\(interface)", "", "[ipv4]"]
            if isStatic {
                lines += ["method=manual", "address1=\(settings.address ?? "")" + (settings.gateway.map { ",\($0)" } ?? "")]
            } else {
                lines += ["method=auto"]
            }
            if !dns.isEmpty { lines += ["dns=\(dns.joined(separator: ";"));"] }
            lines += ["", "[ipv6]", "method=auto"]
            return Rendered(path: "/etc/NetworkManager/system-connections/arrow-\(interface).nmconnection",
                            content: lines.joined(separator: "\n") + "\n", mode: "0600")
        case .networkd:
            var lines = ["[Match]", "Name=\(interface)", "", "[Network]"]
            if isStatic {
                lines += ["Address=\(settings.address ?? "")"]
                if let gateway = settings.gateway { lines += ["Gateway=\(gateway)"] }
            } else {
                lines += ["DHCP=yes"]
            }
            lines += dns.map { "DNS=\($0)" }
            return Rendered(path: "/etc/systemd/network/90-arrow-\(interface).network", content: lines.joined(separator: "\n") + "\n", mode: "0644")
        case .ifupdown:
            var lines = ["auto \(interface)"]
            if isStatic {
                lines += ["iface \(interface) inet static", "    address \(settings.address ?? "")"]
                if let gateway = settings.gateway { lines += ["    gateway \(gateway)"] }
                if !dns.isEmpty { lines += ["    dns-nameservers \(dns.joined(separator: " "))"] }
            } else {
                lines += ["iface \(interface) inet dhcp"]
            }
            return Rendered(path: "/etc/network/interfaces.d/90-arrow-\(interface)", content: lines.joined(separator: "\n") + "\n", mode: "0644")
        }
    }

    /// `/etc/hosts` with the image's own name on 127.0.1.1 (Debian's convention), replacing the old one.
    static func hosts(_ current: String, hostname: String, domain: String?) -> String {
        let names = domain.map { "\(hostname).\($0) \(hostname)" } ?? hostname
        var lines = current.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if let index = lines.firstIndex(where: { $0.hasPrefix("127.0.1.1") }) {
            lines[index] = "127.0.1.1\t\(names)"
        } else {
            let after = (lines.firstIndex { $0.hasPrefix("127.0.0.1") } ?? -1) + 1
            lines.insert("127.0.1.1\t\(names)", at: after)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
