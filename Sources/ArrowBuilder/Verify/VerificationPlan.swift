import ArrowProtocol
import Foundation

/// One check run inside the booted image, as root: it passes when the command exits 0 and every `expect` line
/// appears among its output lines (whitespace trimmed).
public struct VerificationCheck: Codable, Sendable, Equatable {
    public var name: String
    public var command: [String]
    public var expect: [String]?

    public init(name: String, command: [String], expect: [String]? = nil) {
        self.name = name
        self.command = command
        self.expect = expect
    }

    func passes(exitCode: Int32?, output: String) -> Bool {
        let lines = Set(output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        return exitCode == 0 && (expect ?? []).allSatisfy { lines.contains($0) }
    }
}

/// Which checks a build's artifact must pass. They are data, not code: the builder's own (systemd reached `running`,
/// the host name), one per system package, and what each role declares in `meta/arrow-checks.json`:
///
/// ```json
/// {"each_software": {"name": "{software} runs", "command": ["{software}", "--version"]},
///  "checks": [{"name": "sshd settings", "command": ["sshd", "-T"], "expect": ["permitrootlogin no"]}]}
/// ```
///
/// `each_software` runs once per software item naming the role, `{software}` replaced by the item's name (as one
/// argument: it never reaches a shell unquoted).
public enum VerificationPlan {
    struct RoleChecks: Decodable {
        var eachSoftware: VerificationCheck?
        var checks: [VerificationCheck]?

        enum CodingKeys: String, CodingKey { case eachSoftware = "each_software", checks }
    }

    /// systemd's state, with the failed units named (and their last journal lines) when it is not `running`.
    static let systemState = VerificationCheck(
        name: "systemd reached running",
        command: ["sh", "-c", """
            state=$(systemctl is-system-running --wait); echo "$state"; [ "$state" = running ] && exit 0
            for unit in $(systemctl --failed --no-legend --plain | cut -d' ' -f1); do
              echo "failed: $unit"; journalctl --unit "$unit" --lines 12 --no-pager --output cat
            done
            """],
        expect: ["running"])

    /// `hostname`: the name the build gave the image (nil: not checked).
    public static func checks(hostname: String?, software: [SoftwareSpec], flags: [String: Bool], rolesDirectory: String) throws -> [VerificationCheck] {
        var checks = [systemState]
        if let hostname { checks.append(VerificationCheck(name: "host name is \(hostname)", command: ["hostname"], expect: [hostname])) }
        for item in software where item.ansibleRole == nil {
            checks.append(VerificationCheck(name: "package \(item.name) installed", command: [
                "sh", "-c", "dpkg-query -W -f='${Status}\\n' \"$1\" 2>/dev/null | grep -qx 'install ok installed' || rpm -q \"$1\"", "check", item.name,
            ]))
        }
        // The roles the build ran, in its order, each once.
        var roles: [String] = []
        for play in AnsiblePlan.plays(software: software, flags: flags, client: ClientConfigDocument()) where !roles.contains(play.role) {
            roles.append(play.role)
        }
        for role in roles {
            let file = "\(rolesDirectory)/\(role)/meta/arrow-checks.json"
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let declared: RoleChecks
            do {
                declared = try JSONDecoder().decode(RoleChecks.self, from: data)
            } catch {
                throw BuildFailure(.configInvalid, "\(file) is not a valid checks file: \(error)", log: "deploy")
            }
            if let template = declared.eachSoftware {
                for item in software where item.ansibleRole == role {
                    checks.append(VerificationCheck(
                        name: template.name.replacingOccurrences(of: "{software}", with: item.name),
                        command: template.command.map { $0 == "{software}" ? item.name : $0 }, expect: template.expect))
                }
            }
            checks += declared.checks ?? []
        }
        return checks
    }
}
