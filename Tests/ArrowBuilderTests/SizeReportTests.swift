@testable import ArrowBuilder
import ArrowProtocol
import Foundation
import Testing

/// The size report's pieces: the roles' checkpoints read from ansible-playbook's output, the ledger kept between
/// phases, and the playbook that prints the checkpoints. The whole report is checked on a real build in
/// BuilderEndToEndTests.
@Suite struct SizeReportTests {
    @Test func checkpointsInAnsibleOutputGiveEachRolesGrowth() async {
        let checkpoints = SizeCheckpoints()
        // As the default callback prints a debug message, 4096-byte blocks.
        for line in ["ok: [image] => {", #"    "msg": "ARROW-SIZE 0 1000000:600000:4096""#, "}",
                     "TASK [security-tools : install] ***", "changed: [image]",
                     #"    "msg": "ARROW-SIZE 1 1000000:598000:4096""#, #"    "msg": "ARROW-SIZE 2 1000000:598010:4096""#,
                     #"    "msg": "ARROW-SIZE garbage""#] {
            await checkpoints.see(line)
        }
        let growth = await checkpoints.growth(of: ["security-tools", "cleanup", "never-reached"])
        #expect(growth == [SizeReport.Item(kind: "role", name: "security-tools", bytes: 2000 * 4096),
                           SizeReport.Item(kind: "role", name: "cleanup", bytes: -10 * 4096)])
    }

    @Test func theLedgerMeasuresAStepAndSurvivesBetweenPhases() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var ledger = SizeLedger(baseUsedBytes: SizeLedger.used(directory.path))
        #expect((ledger.baseUsedBytes ?? 0) > 0)
        try await ledger.measure("scripts", "writes 8 MiB", at: directory.path) {
            let handle = try FileHandle(forWritingTo: { FileManager.default.createFile(atPath: directory.path + "/blob", contents: nil); return directory.appendingPathComponent("blob") }())
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 8 << 20))
            try handle.synchronize()
            try handle.close()
        }
        #expect(ledger.items.count == 1 && ledger.items[0].kind == "scripts")
        let file = directory.path + "/sizes.json"
        try ledger.save(to: file)
        #expect(SizeLedger.load(from: file) == ledger)
        let report = ledger.report(artifactBytes: 123)
        #expect(report.artifactBytes == 123 && report.items == ledger.items)
    }

    @Test func thePlaybookFollowsEachRoleWithACheckpoint() throws {
        let tasks = Ansible.checkpoint(3, root: "/var/lib/arrow/work/t1/mnt")
        let text = String(decoding: try JSONEncoder().encode(tasks), as: UTF8.self)
        #expect(text.contains(#"ARROW-SIZE 3 {{ lookup('ansible.builtin.pipe', \"stat -f -c %b:%f:%S '\/var\/lib\/arrow\/work\/t1\/mnt'\") }}"#)
                || text.contains(#"ARROW-SIZE 3 {{ lookup('ansible.builtin.pipe', \"stat -f -c %b:%f:%S '/var/lib/arrow/work/t1/mnt'\") }}"#), "\(text)")
        #expect(Ansible.checkpoint(1, root: "/tmp/it's").isEmpty, "a path the quoting cannot carry gets no checkpoint")
    }
}
