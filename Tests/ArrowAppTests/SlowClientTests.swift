import ArrowTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A few hundred connections that hold a slot without making progress — idle, trickling a request head a byte at a
/// time, sending a body far too slowly — are closed by the server, while a normal client is served all along.
@Suite(.serialized) struct SlowClientTests {
    /// A raw TCP connection to the server on loopback.
    struct Connection {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        }

        func send(_ text: String) { _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) } }

        /// Whether the server has closed its side: reading what it sent (an error response, say) ends in end of file
        /// or a reset rather than in "nothing more yet".
        var closedByServer: Bool {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let read = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if read > 0 { continue }
                return read == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
            }
        }

        func close() { _ = Glibc.close(fd) }
    }

    @Test func slowAndIdleConnectionsAreClosedWhileANormalClientIsServed() async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        let port = HTTP.freePort()
        let server = try ArrowProcess(["serve", "--port", String(port), "--data-dir", dataDir], environment: [
            "ARROW_SERVER_IDLE_TIMEOUT": "2", "ARROW_SERVER_HEADER_TIMEOUT": "3", "ARROW_SERVER_BODY_MIN_RATE": "20000",
        ])
        defer { _ = try? server.terminate() }
        #expect(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))

        let idle = try (0..<100).map { _ in try Connection(port: port) }
        let trickleHead = try (0..<100).map { _ in try Connection(port: port) }
        let trickleBody = try (0..<100).map { _ in try Connection(port: port) }
        for connection in trickleHead { connection.send("GET /api/me HTTP/1.1\r\nHost: x\r\nX-Slow: ") }
        for connection in trickleBody {
            connection.send("PUT /api/storage/uploads/u/1?expires=1&signature=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
            connection.send(String(repeating: "a", count: 100))
        }
        // Keep the trickling ones busy (a byte every 400 ms: never idle for 2 s) while a normal client asks, again
        // and again, for 8 s. Every one of its requests must be answered; how fast depends on what else the machine
        // runs (the whole suite runs beside this test on 2 cores).
        let trickling = trickleHead + trickleBody
        let trickle = Task {
            while !Task.isCancelled {
                for connection in trickling { connection.send("a") }
                try? await Task.sleep(for: .milliseconds(400))
            }
        }
        var answers: [Int?] = []
        let start = Date()
        while Date().timeIntervalSince(start) < 8 {
            answers.append(await HTTP.send("GET", "http://127.0.0.1:\(port)/healthz")?.0)
            try await Task.sleep(for: .milliseconds(300))
        }
        trickle.cancel()
        #expect(!answers.isEmpty && answers.allSatisfy { $0 == 200 }, "a normal client should be served throughout: \(answers)")
        for (name, group) in [("idle", idle), ("trickling a head", trickleHead), ("trickling a body", trickleBody)] {
            let open = group.filter { !$0.closedByServer }.count
            #expect(open == 0, "\(open) of 100 connections \(name) are still open after 8 s")
        }
        for connection in idle + trickleHead + trickleBody { connection.close() }
    }
}
