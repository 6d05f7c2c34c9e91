import ArrowTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Bytes the HTTP decoder cannot parse get the API's JSON error with a request id, not a bare 400.
@Suite(.serialized) struct MalformedRequestTests {
    /// Sends `bytes` on a new connection and reads the answer until the server closes it.
    static func answer(to bytes: [UInt8], port: Int) throws -> String {
        let connection = try SlowClientTests.Connection(port: port)
        defer { connection.close() }
        _ = bytes.withUnsafeBufferPointer { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(connection.fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test func unparsableRequestsGetAJSONErrorWithARequestID() async throws {
        let dataDir = try TestPaths.temporaryDirectory()
        let port = HTTP.freePort()
        let server = try ArrowProcess(["serve", "--port", String(port), "--data-dir", dataDir])
        defer { _ = try? server.terminate() }
        try #require(await HTTP.waitUntilReady("http://127.0.0.1:\(port)/readyz"))
        let cases: [(String, [UInt8])] = [
            ("garbage request line", Array("GARBAGE\r\n\r\n".utf8)),
            ("oversized header", Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n".utf8)),
            ("thousands of headers", Array(("GET /healthz HTTP/1.1\r\nHost: x\r\n" + (0..<3000).map { "X-\($0): 1\r\n" }.joined() + "\r\n").utf8)),
            ("bad Content-Length", Array("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".utf8)),
        ]
        for (name, bytes) in cases {
            let answer = try Self.answer(to: bytes, port: port)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(name): \(answer.prefix(200))")
            let header = answer.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }
            let id = header.map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
            #expect(id != nil, "\(name): no X-Request-ID")
            let body = answer.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            let error = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["code"] as? String == "malformed_request", "\(name): \(body)")
            #expect(error?["request_id"] as? String == id, "\(name)")
        }
        // The server still serves everyone else.
        #expect(await HTTP.get("http://127.0.0.1:\(port)/healthz")?.0 == 200)
    }
}
