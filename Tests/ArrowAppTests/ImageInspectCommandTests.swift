import ArrowTesting
import Foundation
import Testing

/// `arrow image inspect` as a user runs it: exit codes 0/1/2 and the JSON fields.
struct ImageInspectCommandTests {
    static func qemuImage(_ name: String, _ format: String) throws -> String {
        try TestImages.qemuImage(name, format: format, in: try TestImages.directory()).path
    }

    struct Verdict: Decodable {
        struct Violation: Decodable { let check: String; let message: String }
        let format: String
        let virtual_size: UInt64
        let accepted: Bool
        let violations: [Violation]
    }

    @Test func acceptedImageExitsZeroWithJSON() throws {
        let path = try Self.qemuImage("disk.qcow2", "qcow2")
        let (status, out, _) = try ArrowProcess.run(["image", "inspect", path, "--json"])
        #expect(status == 0)
        let verdict = try JSONDecoder().decode(Verdict.self, from: Data(out.utf8))
        #expect(verdict.format == "qcow2")
        #expect(verdict.virtual_size == 10 << 20)
        #expect(verdict.accepted)
        #expect(verdict.violations.isEmpty)
    }

    @Test func rejectedImageExitsOneAndNamesTheCheck() throws {
        let base = try Self.qemuImage("base.qcow2", "qcow2")
        let child = try TestImages.qemuImage(
            "child.qcow2", format: "qcow2", size: nil, extra: ["-b", base, "-F", "qcow2"],
            in: URL(fileURLWithPath: base).deletingLastPathComponent()).path
        let (status, out, _) = try ArrowProcess.run(["image", "inspect", child, "--json"])
        #expect(status == 1)
        let verdict = try JSONDecoder().decode(Verdict.self, from: Data(out.utf8))
        #expect(!verdict.accepted)
        #expect(verdict.violations.map(\.check) == ["backing_file"])
        let (human, text, _) = try ArrowProcess.run(["image", "inspect", child])
        #expect(human == 1)
        #expect(text.contains("REJECTED") && text.contains("backing_file"))
    }

    @Test func nameOptionJudgesAsThatUpload() throws {
        let path = try Self.qemuImage("disk.qcow2", "qcow2")
        let (status, out, _) = try ArrowProcess.run(["image", "inspect", path, "--json", "--name", "disk.iso"])
        #expect(status == 1)
        #expect(out.contains("format_mismatch"))
    }

    @Test func missingFileAndUsageErrorsExitTwo() throws {
        let (missing, _, error) = try ArrowProcess.run(["image", "inspect", "/nonexistent/disk.qcow2"])
        #expect(missing == 2)
        #expect(error.contains("No such file"))
        let (usage, _, _) = try ArrowProcess.run(["image", "inspect"])
        #expect(usage == 2)
        let (directory, _, _) = try ArrowProcess.run(["image", "inspect", "/tmp"])
        #expect(directory == 2)
    }
}
