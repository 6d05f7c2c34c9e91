import ArrowTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that hangs up in the middle of an upload is the client's doing: counted as 499 in /metrics, logged at
/// debug, never a 500 or an error line.
@Suite(.serialized) struct ClientDisconnectTests {
    @Test func aClientThatHangsUpMidUploadIsNotAServerError() async throws {
        let installation = try TestInstallation()
        let (dataDir, token, port) = (installation.dataDir, installation.token, installation.port)
        let server = try await installation.serve(stderrFile: dataDir + "/serve.log")
        let file = try installation.sparseFile("big.raw", size: 400 << 20)

        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "/dev/null", "--limit-rate", "2M", "-H", "Authorization: Bearer \(token)",
                          "-F", "name=gone", "-F", "file=@\(file)", "http://127.0.0.1:\(port)/api/vm_images/upload"]
        try curl.run()
        try await Task.sleep(for: .milliseconds(1500))
        kill(curl.processIdentifier, SIGKILL)
        curl.waitUntilExit()
        try await Task.sleep(for: .milliseconds(500))

        let metrics = await HTTP.get("http://127.0.0.1:\(port)/metrics")?.1 ?? ""
        let uploadLines = metrics.split(separator: "\n").filter { $0.contains("/api/vm_images/upload") && !$0.hasPrefix("#") }
        #expect(uploadLines.contains { $0.hasPrefix("hb_requests") && $0.contains("\"499\"") }, "\(uploadLines)")
        #expect(!uploadLines.contains { $0.contains("\"500\"") }, "\(uploadLines)")
        #expect(!uploadLines.contains { $0.hasPrefix("hb_request_errors") && !$0.hasSuffix(" 0") }, "\(uploadLines)")
        let (exit, _) = try server.terminate()
        #expect(exit == 0)
        let log = try String(contentsOfFile: dataDir + "/serve.log", encoding: .utf8)
        #expect(!log.contains(" error "), "\(log.split(separator: "\n").filter { $0.contains(" error ") })")
    }
}
