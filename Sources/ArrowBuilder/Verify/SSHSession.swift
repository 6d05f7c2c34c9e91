import Foundation

/// Commands in a booted test VM over SSH to a loopback port, with a one-time key. The VM's host key is new at every
/// boot and the connection never leaves loopback, so it is not recorded (UserKnownHostsFile=/dev/null).
struct SSHSession {
    let runner: any CommandRunner
    let port: Int
    let key: String
    let user: String

    var options: [String] {
        ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "ConnectTimeout=5", "-o", "IdentitiesOnly=yes", "-i", key, "-p", "\(port)", "\(user)@127.0.0.1"]
    }

    func answers() async -> Bool {
        await run(["true"], timeout: .seconds(15)).0 == 0
    }

    /// Runs `arguments` in the VM: ssh sends one string that the remote shell splits, so every word is quoted.
    func run(_ arguments: [String], timeout: Duration) async -> (Int32?, String) {
        let output = LineCollector()
        let result = try? await runner.run(Command("ssh", options + ["--", ShellWords.join(arguments)], timeout: timeout)) { line in
            await output.append(line.text)
        }
        return (result?.exitCode, await output.text)
    }
}

/// A free TCP port on loopback (the kernel picks it; the socket is closed before QEMU binds it).
enum FreePort {
    static func loopback() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BuildFailure(.deployFailed, "no socket for a free port", log: "deploy") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BuildFailure(.deployFailed, "no free loopback port", log: "deploy") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
