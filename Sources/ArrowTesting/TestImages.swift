import Foundation

/// Disk images for tests, made by the real tools (qemu-img, genisoimage) in fresh directories. A missing tool
/// fails the test: `scripts/test.sh` installs qemu-utils and genisoimage.
public enum TestImages {
    public struct ToolFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// A new empty directory for one test's images.
    public static func directory() throws -> URL {
        URL(fileURLWithPath: try TestPaths.temporaryDirectory())
    }

    /// Runs `tool ARGS…` in `directory` and returns its standard output.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], in directory: URL) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = directory
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailed(description: "\(tool) \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
        return data
    }

    /// `qemu-img create -f FORMAT [-o OPTIONS] [EXTRA…] NAME [SIZE]` in `directory`, returning the file's URL.
    public static func qemuImage(
        _ name: String, format: String, size: String? = "10M", options: String? = nil, extra: [String] = [], in directory: URL
    ) throws -> URL {
        var arguments = ["create", "-q", "-f", format] + extra
        if let options { arguments += ["-o", options] }
        try run("qemu-img", arguments + [name] + (size.map { [$0] } ?? []), in: directory)
        return directory.appendingPathComponent(name)
    }

    /// An image encrypted under a throwaway secret (`--object secret,…`), for the encryption checks.
    /// qemu-img times its key derivation (2 s of CPU by default) and, on a loaded machine, sometimes fails that
    /// measurement ("Unable to get accurate CPU usage"): the time is cut to 10 ms, and the creation tried again.
    public static func encryptedImage(_ name: String, format: String, options: String, size: String, in directory: URL) throws -> URL {
        let quick = format == "luks" ? "iter-time=10" : "encrypt.iter-time=10"
        let options = options.contains("iter-time") ? options : options + "," + quick
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try qemuImage(name, format: format, size: size, options: options,
                                     extra: ["--object", "secret,id=sec0,data=hunter2"], in: directory)
            } catch where attempt < 10 && String(describing: error).contains("accurate CPU usage") {
                // qemu-img times its key derivation by the thread's CPU time, which a loaded machine can report as not
                // having moved (seen three times in a row in one CI run): try again after a pause.
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
    }
}
