@testable import ArrowBuilder
import ArrowProtocol
import Foundation
import Testing

@Suite struct VerificationPlanTests {
    var roles: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/imaging/roles"
    }

    @Test func checksComeFromTheSystemThePackagesAndTheRoles() throws {
        let software = [SoftwareSpec(name: "nmap", ansibleRole: "security-tools"), SoftwareSpec(name: "curl"),
                        SoftwareSpec(name: "masscan", ansibleRole: "security-tools")]
        let checks = try VerificationPlan.checks(hostname: "lab-01", software: software,
                                                 flags: ["harden_ssh": true, "install_monitoring": false], rolesDirectory: roles)
        #expect(checks.map(\.name) == [
            "systemd reached running", "host name is lab-01", "package curl installed", "nmap --version", "masscan --version",
            "sshd accepts its configuration", "sshd is hardened",
        ])
        #expect(checks[3].command == ["nmap", "--version"])
        #expect(checks[2].command.last == "curl", "the package name is an argument of its own, never spliced into the script")
        #expect(checks[6].expect?.contains("permitrootlogin no") == true)
    }

    @Test func everyRoleDeclaresReadableChecks() throws {
        for role in try FileManager.default.contentsOfDirectory(atPath: roles) where !role.hasSuffix(".md") {
            let checks = try VerificationPlan.checks(hostname: nil, software: [SoftwareSpec(name: "tool", ansibleRole: role)],
                                                     flags: [:], rolesDirectory: roles)
            #expect(checks.count > 1, "\(role) declares no check")
        }
    }

    @Test func aCheckPassesOnExitZeroWithEveryExpectedLine() {
        let check = VerificationCheck(name: "sshd", command: ["sshd", "-T"], expect: ["permitrootlogin no", "passwordauthentication no"])
        #expect(check.passes(exitCode: 0, output: "port 22\n  permitrootlogin no\npasswordauthentication no\n"))
        #expect(!check.passes(exitCode: 0, output: "permitrootlogin no\npasswordauthentication yes"))
        #expect(!check.passes(exitCode: 1, output: "permitrootlogin no\npasswordauthentication no"))
        #expect(!check.passes(exitCode: 0, output: "# permitrootlogin no is wanted\npasswordauthentication no"), "whole lines, not substrings")
        #expect(!VerificationPlan.systemState.passes(exitCode: 0, output: "degraded\nfoo.service loaded failed failed still running"))
        #expect(VerificationPlan.systemState.passes(exitCode: 0, output: "running"))
    }

    @Test func remoteCommandsAreQuotedWordByWord() {
        #expect(ShellWords.join(["sudo", "-n", "sh", "-c", "command -v \"$1\"", "check", "a'b; rm -rf /"])
            == #"sudo -n sh -c 'command -v "$1"' check 'a'\''b; rm -rf /'"#)
        #expect(ShellWords.quote("") == "''" && ShellWords.quote("FOO=bar") == "'FOO=bar'" && ShellWords.quote("plain-1.0") == "plain-1.0")
    }

    @Test func qemuGetsLoopbackOnlySSHAndNoDisplay() {
        let arguments = QEMUArguments.make(accelerator: "tcg", memoryMiB: 1024, cpus: 2, disk: "/w/a,b.qcow2", seed: "/w/seed.iso",
                                           sshPort: 2222, console: "/w/console.log", pidFile: "/w/qemu.pid")
        #expect(arguments.contains("user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22"))
        #expect(arguments.contains("file=/w/a,,b.qcow2,if=virtio,format=qcow2"), "a comma in a path is doubled for QEMU's option parser")
        #expect(arguments.contains("-nodefaults") && arguments.contains("none"))
        #expect(arguments[arguments.firstIndex(of: "-cpu")! + 1] == "max")
    }

    @Test func theSeedGivesOneUserOneKeyAndKeepsTheHostName() throws {
        let text = NoCloudSeed.verificationUser(publicKey: "ssh-ed25519 AAAA arrow-verify")
        #expect(text.hasPrefix("#cloud-config\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.dropFirst("#cloud-config\n".count).utf8)) as? [String: Any])
        #expect(object["preserve_hostname"] as? Bool == true && object["ssh_pwauth"] as? Bool == false)
        let users = try #require(object["users"] as? [[String: Any]])
        #expect(users.count == 1 && users[0]["name"] as? String == "arrow-verify")
        #expect(users[0]["ssh_authorized_keys"] as? [String] == ["ssh-ed25519 AAAA arrow-verify"])
    }
}
