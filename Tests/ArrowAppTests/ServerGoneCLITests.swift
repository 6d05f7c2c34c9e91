import ArrowTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// When the server is gone during `arrow image upload`, the error says so and says how to continue: `--resume` when
/// parts of a multipart upload are kept (which then sends only what is missing), running it again otherwise.
@Suite(.serialized) struct ServerGoneCLITests {
    @Test func aServerThatIsGoneIsReportedWithTheWayToContinue() async throws {
        let installation = try TestInstallation()
        let environment = ["ARROW_API": installation.base, "ARROW_TOKEN": installation.token, "XDG_CACHE_HOME": installation.dataDir + "/cache"]
        let file = try installation.sparseFile("big.raw", size: 40 << 20)
        let upload = ["image", "upload", file, "--name", "n", "--multipart-threshold", "8"]

        // Nothing listening and nothing sent: run it again.
        let (down, _, downErr) = try ArrowProcess.run(upload, environment: environment)
        #expect(down == 1)
        #expect(downErr.contains("error: server_unreachable"), "\(downErr)")
        #expect(downErr.contains("run the same command again"), "\(downErr)")

        // Parts sent, then the server is gone: --resume, which finishes the upload once the server is back.
        let server = try await installation.serve()
        let (interrupted, _, _) = try ArrowProcess.run(upload + ["--interrupt-after-parts", "2"], environment: environment)
        #expect(interrupted == 1)
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        let (gone, _, goneErr) = try ArrowProcess.run(upload + ["--resume"], environment: environment)
        #expect(gone == 1)
        #expect(goneErr.contains("error: server_unreachable"), "\(goneErr)")
        #expect(goneErr.contains("run the same command with --resume"), "\(goneErr)")

        let restarted = try await installation.serve()
        defer { _ = try? restarted.terminate() }
        let (resumed, resumedOut, resumedErr) = try ArrowProcess.run(upload + ["--resume"], environment: environment)
        #expect(resumed == 0, "\(resumedErr)")
        #expect(resumedErr.contains("2 of 5 parts already stored"), "\(resumedErr)")
        #expect(!resumedOut.isEmpty)
    }
}
