import ArrowTesting
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The built `arrow` binary, run as a child process: `ARROW_BIN` (set by scripts/test.sh) or the build folder.
struct ArrowProcess {
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["ARROW_BIN"] { return URL(fileURLWithPath: path) }
        // Tests run from .build/<triple>/debug/arrow-imagingPackageTests.xctest; the binary sits beside it.
        var url = Bundle.main.bundleURL
        while url.pathComponents.count > 1 && url.lastPathComponent != "debug" && url.lastPathComponent != "release" {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("arrow")
    }

    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    /// Standard input, when the caller keeps it open to stream into the process.
    var stdinPipe: Pipe?

    /// Starts `arrow ARGS…` with `environment` added to a minimal environment. With `stderrFile`, standard error goes
    /// to that file (a server logging at trace fills a pipe nobody drains, and then blocks); `stdoutToo` sends standard
    /// output there as well.
    init(
        _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, keepStdinOpen: Bool = false,
        stderrFile: String? = nil, stdoutToo: Bool = false
    ) throws {
        process.executableURL = Self.binary
        process.arguments = arguments
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = stdout
        if let stderrFile {
            _ = FileManager.default.createFile(atPath: stderrFile, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrFile))
            // A long-running child that prints much (a builder) would block on a pipe nobody reads.
            if stdoutToo { process.standardOutput = process.standardError }
        } else {
            process.standardError = stderr
        }
        if keepStdinOpen {
            let input = Pipe()
            process.standardInput = input
            stdinPipe = input
            try process.run()
        } else if let stdin {
            let input = Pipe()
            process.standardInput = input
            try process.run()
            try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
    }

    /// Runs to completion and returns (exit status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> (Int32, String, String) {
        let child = try ArrowProcess(arguments, environment: environment, stdin: stdin)
        let out = child.stdout.fileHandleForReading.readDataToEndOfFile()
        let err = child.stderr.fileHandleForReading.readDataToEndOfFile()
        child.process.waitUntilExit()
        return (child.process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Sends SIGTERM and waits up to `timeout` for exit; returns the exit status and everything written to stderr.
    func terminate(timeout: TimeInterval = 15) throws -> (Int32, String) {
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (-1, "")
        }
        guard process.standardError is Pipe else { return (process.terminationStatus, "") }
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, String(decoding: err, as: UTF8.self))
    }
}

enum HTTP {
    /// A GET on loopback: (status, body), or nil when nothing answers.
    static func get(_ url: String, token: String? = nil) async -> (Int, String)? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 2
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Polls `url` until it answers 200 or `timeout` passes.
    static func waitUntilReady(_ url: String, timeout: TimeInterval = 60) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await get(url)?.0 == 200 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A request on loopback with an optional bearer token and body: (status, headers, body), or nil when nothing answers.
    static func send(
        _ method: String, _ url: String, token: String? = nil, json: String? = nil, body: Data? = nil, contentType: String? = nil
    ) async -> (Int, [AnyHashable: Any], Data)? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue(contentType ?? "application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        guard let (data, response) = try? await noRedirects.data(for: request), let http = response as? HTTPURLResponse else { return nil }
        return (http.statusCode, http.allHeaderFields, data)
    }

    /// A session that answers redirects to the caller instead of following them (a presigned URL is the answer).
    static let noRedirects = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }

    /// A TCP port nothing listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A fresh data directory with `arrow admin init` done, and what tests need to start `arrow serve` on it.
struct TestInstallation {
    let dataDir: String
    let token: String
    let port = HTTP.freePort()
    /// `ARROW_DATABASE_URL` (PostgreSQL) and the like, for every command run on this installation.
    let environment: [String: String]
    var base: String { "http://127.0.0.1:\(port)" }

    init(environment: [String: String] = [:]) throws {
        dataDir = try TestPaths.temporaryDirectory()
        self.environment = environment
        let (status, out, err) = try ArrowProcess.run(
            ["admin", "init", "--data-dir", dataDir, "--email", "root@arrow.test", "--password-stdin"],
            environment: environment, stdin: "rootpassword\n")
        try #require(status == 0, "\(err)")
        token = try #require(out.split(separator: "\n").last.map(String.init))
    }

    /// Starts `arrow serve` on the installation and waits until it is ready.
    func serve(stderrFile: String? = nil, extraEnvironment: [String: String] = [:]) async throws -> ArrowProcess {
        let server = try ArrowProcess(["serve", "--port", String(port), "--data-dir", dataDir],
                                      environment: environment.merging(extraEnvironment) { $1 }, stderrFile: stderrFile)
        try #require(await HTTP.waitUntilReady("\(base)/readyz"))
        return server
    }

    /// A sparse file of `size` bytes in the data directory (zeros: a raw disk the inspector accepts).
    func sparseFile(_ name: String, size: UInt64) throws -> String {
        let path = dataDir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        try FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: size)
        return path
    }
}
