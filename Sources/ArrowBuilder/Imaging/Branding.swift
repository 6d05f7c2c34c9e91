import ArrowProtocol
import Foundation

/// The organization's branding in the image: message of the day, the console's issue, the SSH login banner, and
/// the logo and wallpaper files under /usr/share/arrow/branding.
struct Branding {
    let root: ImageRoot

    func apply(_ branding: ClientConfigDocument.Branding) async throws {
        if let motd = branding.motd { try await root.write("/etc/motd", Self.line(motd)) }
        if let issue = branding.issue { try await root.write("/etc/issue", Self.line(issue)) }
        if let banner = branding.loginBanner {
            try await root.write("/etc/issue.net", Self.line(banner))
            if try await root.exists("/etc/ssh/sshd_config.d") {
                try await root.write("/etc/ssh/sshd_config.d/80-arrow-banner.conf", "Banner /etc/issue.net\n")
            }
        }
        var info = ["ORGANIZATION=\(Self.quoted(branding.organizationName ?? ""))", "PRIMARY_COLOR=\(Self.quoted(branding.primaryColor ?? ""))"]
        for (data, name) in [(branding.logoBase64, "logo"), (branding.wallpaperBase64, "wallpaper")] {
            guard let data, let bytes = Data(base64Encoded: data), !bytes.isEmpty else { continue }
            let file = "/usr/share/arrow/branding/\(name).\(Self.fileExtension(bytes))"
            try await root.run(["install", "-d", "-m", "0755", "/usr/share/arrow/branding"], quiet: true)
            // Base64 through the chroot helper's stdin, decoded inside the image.
            try await root.write(file + ".b64", data)
            try await root.run(["sh", "-c", "base64 -d < \"$1\" > \"$2\" && rm -f \"$1\"", "arrow", file + ".b64", file], quiet: true)
            info.append("\(name.uppercased())=\(file)")
        }
        try await root.write("/usr/share/arrow/branding/branding.env", info.joined(separator: "\n") + "\n")
        await root.log("branding applied: " + [branding.motd.map { _ in "motd" }, branding.issue.map { _ in "issue" },
                                               branding.loginBanner.map { _ in "login banner" }, branding.logoBase64.map { _ in "logo" },
                                               branding.wallpaperBase64.map { _ in "wallpaper" }].compactMap { $0 }.joined(separator: ", "))
    }

    static func line(_ text: String) -> String { text.hasSuffix("\n") ? text : text + "\n" }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''").replacingOccurrences(of: "\n", with: " ") + "'"
    }

    static func fileExtension(_ bytes: Data) -> String {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "png" }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "jpg" }
        return "svg"
    }
}
