import ArrowTesting
import Foundation
import Testing

/// curl sends `Expect: 100-continue` with every upload over 1 MiB and waits a second for an answer before sending the
/// body; the server answers `100 Continue` at once.
@Suite(.serialized) struct ExpectContinueTests {
    @Test func uploadsAreToldToContinueAtOnce() async throws {
        let installation = try TestInstallation()
        let (token, port) = (installation.token, installation.port)
        let server = try await installation.serve()
        defer { _ = try? server.terminate() }
        let file = try installation.sparseFile("f.raw", size: 3 << 20)

        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-v", "-o", "/dev/null", "-w", "total=%{time_total}\n", "-H", "Authorization: Bearer \(token)",
                          "-F", "name=continue", "-F", "file=@\(file)", "http://127.0.0.1:\(port)/api/vm_images/upload"]
        let output = Pipe()
        curl.standardOutput = output
        curl.standardError = output
        try curl.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        #expect(text.contains("> Expect: 100-continue"), "curl should have asked: \(text)")
        #expect(text.contains("< HTTP/1.1 100 Continue"), "\(text)")
        #expect(text.contains("< HTTP/1.1 201 Created"), "\(text)")
        // Without the 100 curl waits 1 s before sending the body; how long the upload took is printed, not judged
        // (the whole suite runs beside this test).
        print("upload with Expect: 100-continue: \(text.split(separator: "\n").first { $0.hasPrefix("total=") } ?? "?") s")
    }
}
