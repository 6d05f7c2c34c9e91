import ArrowProtocol
import Foundation

/// The organization's branding as files for the `apply_branding` role: message of the day, the console's issue, the
/// SSH login banner, and the logo, wallpaper and `branding.env` under /usr/share/arrow/branding. The builder stages
/// them on its host; the role copies them into the image (so a second run changes nothing).
enum Branding {
    struct File: Equatable {
        var name: String
        var bytes: Data
        var destination: String
    }

    static let directory = "/usr/share/arrow/branding"

    static func files(_ branding: ClientConfigDocument.Branding) -> [File] {
        var files: [File] = []
        if let motd = branding.motd { files.append(File(name: "motd", bytes: Data(line(motd).utf8), destination: "/etc/motd")) }
        if let issue = branding.issue { files.append(File(name: "issue", bytes: Data(line(issue).utf8), destination: "/etc/issue")) }
        if let banner = branding.loginBanner {
            files.append(File(name: "issue.net", bytes: Data(line(banner).utf8), destination: "/etc/issue.net"))
        }
        var info = ["ORGANIZATION=\(quoted(branding.organizationName ?? ""))", "PRIMARY_COLOR=\(quoted(branding.primaryColor ?? ""))"]
        for (data, name) in [(branding.logoBase64, "logo"), (branding.wallpaperBase64, "wallpaper")] {
            guard let data, let bytes = Data(base64Encoded: data), !bytes.isEmpty else { continue }
            let file = "\(name).\(fileExtension(bytes))"
            files.append(File(name: file, bytes: bytes, destination: "\(directory)/\(file)"))
            info.append("\(name.uppercased())=\(directory)/\(file)")
        }
        files.append(File(name: "branding.env", bytes: Data((info.joined(separator: "\n") + "\n").utf8), destination: "\(directory)/branding.env"))
        return files
    }

    /// Writes the files under `staging` and answers the role's variables.
    static func stage(_ branding: ClientConfigDocument.Branding, into staging: String) throws -> [String: JSONValue] {
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let files = files(branding)
        for file in files { try file.bytes.write(to: URL(fileURLWithPath: "\(staging)/\(file.name)")) }
        return [
            "branding_files": .array(files.map { .object(["src": .string("\(staging)/\($0.name)"), "dest": .string($0.destination)]) }),
            "branding_login_banner": .bool(branding.loginBanner != nil),
        ]
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
