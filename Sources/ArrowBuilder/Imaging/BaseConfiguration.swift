import ArrowProtocol
import Foundation

/// Host name, network, time zone and users: the spec's "Apply Base Config", done offline inside the image.
struct BaseConfiguration {
    let root: ImageRoot

    func apply(hostname: String, client: ClientConfigDocument) async throws {
        await root.log("host name: \(hostname)")
        try await root.write("/etc/hostname", hostname + "\n")
        let hosts = try await root.read("/etc/hosts") ?? "127.0.0.1\tlocalhost\n"
        try await root.write("/etc/hosts", NetworkConfig.hosts(hosts, hostname: hostname, domain: client.networkSettings?.domain))
        if let zone = client.timezone { try await timezone(zone) }
        if let network = client.networkSettings, network.mode != nil || network.interface != nil || network.dns != nil {
            try await self.network(network)
        }
        for user in client.users ?? [] { try await self.user(user) }
    }

    func timezone(_ zone: String) async throws {
        guard try await root.exists("/usr/share/zoneinfo/\(zone)") else {
            await root.log("time zone \(zone): the image has no zoneinfo for it; left as it was")
            return
        }
        try await root.run(["ln", "-sfn", "/usr/share/zoneinfo/\(zone)", "/etc/localtime"])
        try await root.write("/etc/timezone", zone + "\n")
        await root.log("time zone: \(zone)")
    }

    /// The stack the image configures its network with, most specific first.
    func stack() async throws -> NetworkConfig.Stack {
        if try await root.exists("/usr/sbin/netplan") { return .netplan }
        if try await root.exists("/usr/sbin/NetworkManager") { return .networkManager }
        if try await root.exists("/sbin/ifup") { return .ifupdown }
        return .networkd
    }

    func network(_ settings: ClientConfigDocument.NetworkSettings) async throws {
        let stack = try await stack()
        let rendered = NetworkConfig.render(settings, stack: stack, interface: "ens3")
        try await root.write(rendered.path, rendered.content, mode: rendered.mode)
        if stack == .networkd { _ = try? await root.run(["systemctl", "enable", "systemd-networkd"], quiet: true) }
        await root.log("network (\(stack.rawValue)): \(settings.mode ?? "dhcp") on \(settings.interface ?? "ens3") → \(rendered.path)")
    }

    func user(_ user: ClientConfigDocument.ImageUser) async throws {
        let name = user.name
        let passwd = try await root.read("/etc/passwd") ?? ""
        if !passwd.split(separator: "\n").contains(where: { $0.hasPrefix(name + ":") }) {
            // A group of that name may exist already (Debian has "operator", "games", …): then it is the user's group.
            let groups = try await root.read("/etc/group") ?? ""
            let group = groups.split(separator: "\n").contains(where: { $0.hasPrefix(name + ":") }) ? ["--gid", name] : ["--user-group"]
            try await root.run(["useradd", "--create-home", "--shell", user.shell ?? "/bin/bash"] + group + ["--", name])
        }
        if let hash = user.passwordHash, !hash.isEmpty {
            // On standard input, never in an argument list another process could read.
            try await root.run(["chpasswd", "--encrypted"], input: "\(name):\(hash)\n", quiet: true)
        }
        if user.sudo == true {
            let rule = "\(name) ALL=(ALL) NOPASSWD:ALL\n"
            try await root.write("/etc/sudoers.d/90-arrow-\(name)", rule, mode: "0440")
            if try await root.exists("/usr/sbin/visudo") { try await root.run(["visudo", "-cf", "/etc/sudoers.d/90-arrow-\(name)"], quiet: true) }
        }
        if let keys = user.sshAuthorizedKeys, !keys.isEmpty {
            let entry = try await root.output(["getent", "passwd", name]).split(separator: ":", omittingEmptySubsequences: false)
            guard entry.count >= 6 else { throw BuildFailure(.configInvalid, "user \(name) has no home directory", log: "ansible") }
            let home = String(entry[5])
            try await root.run(["install", "-d", "-m", "0700", "--", home + "/.ssh"], quiet: true)
            try await root.write(home + "/.ssh/authorized_keys", keys.joined(separator: "\n") + "\n", mode: "0600")
            // "name:" is the user and their login group, whatever that group is called.
            try await root.run(["chown", "\(name):", "--", home + "/.ssh", home + "/.ssh/authorized_keys"], quiet: true)
        }
        await root.log("user \(name): \(user.passwordHash?.isEmpty == false ? "password set" : "no password"), "
            + "\(user.sshAuthorizedKeys?.count ?? 0) SSH key(s)\(user.sudo == true ? ", sudo" : "")")
    }
}
