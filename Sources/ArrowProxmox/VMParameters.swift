import Foundation

/// The parameters of `POST /nodes/{node}/qemu` for an imported cloud image (external-apis.md §1.5): the disk
/// imported with `STORAGE:0,import-from=…` on virtio-scsi, the guest agent on, a serial console, a cloud-init drive,
/// `ipconfig0`, the SSH keys percent-encoded once here (PVE's `urlencoded` format; the form encoding adds the second
/// layer), tags, CPU and memory. Pure, so every rule is tested without a server.
public struct VMParameters: Sendable, Equatable {
    public var name: String
    public var cores: Int
    public var memoryMB: Int
    public var tags: [String]
    public var description: String
    public var sshKeys: [String]
    /// `ip=dhcp`, or `ip=10.0.0.5/24,gw=10.0.0.1`.
    public var ipConfig: String
    public var nameservers: [String]
    /// A `cicustom` user-data volume (`STORAGE:snippets/NAME`) carrying first-boot files.
    public var userDataSnippet: String?

    public init(name: String, cores: Int = 2, memoryMB: Int = 2048, tags: [String] = [], description: String = "", sshKeys: [String] = [],
                ipConfig: String = "ip=dhcp", nameservers: [String] = [], userDataSnippet: String? = nil) {
        self.name = name
        self.cores = cores
        self.memoryMB = memoryMB
        self.tags = tags
        self.description = description
        self.sshKeys = sshKeys
        self.ipConfig = ipConfig
        self.nameservers = nameservers
        self.userDataSnippet = userDataSnippet
    }

    /// In the order PVE's own tools send them (any order works; a fixed one keeps logs comparable).
    public func form(vmid: Int, diskStorage: String, importFrom: String, bridge: String, vlan: Int?) -> [(String, String)] {
        var form: [(String, String)] = [
            ("vmid", String(vmid)), ("name", Self.dnsName(name)), ("ostype", "l26"), ("cores", String(max(1, cores))), ("sockets", "1"),
            ("memory", String(max(16, memoryMB))), ("scsihw", "virtio-scsi-pci"),
            ("scsi0", "\(diskStorage):0,import-from=\(importFrom),discard=on"), ("boot", "order=scsi0"),
            ("agent", "enabled=1"), ("serial0", "socket"), ("vga", "serial0"),
            ("ide2", "\(diskStorage):cloudinit"), ("ipconfig0", ipConfig),
            ("net0", "virtio,bridge=\(bridge)" + (vlan.map { ",tag=\($0)" } ?? "")),
        ]
        if !sshKeys.isEmpty { form.append(("sshkeys", Self.urlencoded(sshKeys.joined(separator: "\n")))) }
        if !nameservers.isEmpty { form.append(("nameserver", nameservers.joined(separator: " "))) }
        if let userDataSnippet { form.append(("cicustom", "user=\(userDataSnippet)")) }
        let tags = self.tags.map(Self.tag).filter { !$0.isEmpty }
        if !tags.isEmpty { form.append(("tags", tags.joined(separator: ";"))) }
        if !description.isEmpty { form.append(("description", String(description.prefix(8192)))) }
        return form
    }

    /// PVE's `urlencoded` format (`^[-%a-zA-Z0-9_.!~*'()]*$`): every other byte percent-encoded, a space as `%20`.
    public static func urlencoded(_ text: String) -> String { FormEncoding.escape(text) }

    /// A `dns-name`: labels of letters, digits and inner hyphens; anything else becomes a hyphen.
    public static func dnsName(_ name: String) -> String {
        let labels = name.split(separator: ".").map { label -> String in
            let mapped = String(label.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
            return String(mapped.trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(63))
        }.filter { !$0.isEmpty }
        return labels.isEmpty ? "arrow-vm" : labels.joined(separator: ".")
    }

    /// A `pve-tag`: `[a-z0-9_][a-z0-9_+.-]*`, lower case.
    static func tag(_ text: String) -> String {
        let mapped = String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber || "_+.-".contains($0)) ? $0 : "-" })
        return String(mapped.drop { $0 == "-" || $0 == "+" || $0 == "." })
    }
}
