@testable import ArrowFormats
import ArrowTesting
import Foundation
import Testing

/// Images made by qemu-img and genisoimage: detected as qemu sees them, same virtual size, accepted or refused.
struct RealImageTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let qemuFormat: String
        var options: String?
        let expected: ImageFormat
        var description: String { name }
    }

    static let accepted: [Case] = [
        Case(name: "disk.qcow2", qemuFormat: "qcow2", expected: .qcow2),
        Case(name: "v2.qcow2", qemuFormat: "qcow2", options: "compat=0.10", expected: .qcow2),
        Case(name: "zstd.qcow2", qemuFormat: "qcow2", options: "compression_type=zstd", expected: .qcow2),
        Case(name: "cloud.img", qemuFormat: "qcow2", expected: .qcow2),
        Case(name: "disk.raw", qemuFormat: "raw", expected: .raw),
        Case(name: "disk.img", qemuFormat: "raw", expected: .raw),
        Case(name: "sparse.vmdk", qemuFormat: "vmdk", expected: .vmdk),
        Case(name: "stream.vmdk", qemuFormat: "vmdk", options: "subformat=streamOptimized", expected: .vmdk),
        Case(name: "dynamic.vhd", qemuFormat: "vpc", expected: .vhd),
        Case(name: "fixed.vhd", qemuFormat: "vpc", options: "subformat=fixed", expected: .vhd),
        Case(name: "forced.vhd", qemuFormat: "vpc", options: "force_size=on", expected: .vhd),
        Case(name: "disk.vhdx", qemuFormat: "vhdx", expected: .vhdx),
        Case(name: "fixed.vhdx", qemuFormat: "vhdx", options: "subformat=fixed", expected: .vhdx),
    ]

    @Test(arguments: accepted)
    func acceptsWhatQemuMakes(_ testCase: Case) async throws {
        let directory = try TestImages.directory()
        let url = try TestImages.qemuImage(testCase.name, format: testCase.qemuFormat, size: "10M", options: testCase.options, in: directory)
        let report = try await inspect(Fixtures.bytes(url), fileName: testCase.name)
        #expect(report.format == testCase.expected)
        #expect(report.violations == [])
        #expect(report.accepted)
        #expect(report.virtualSize == (try Fixtures.qemuVirtualSize(url, format: testCase.qemuFormat)))
    }

    @Test func isoFromGenisoimage() async throws {
        let directory = try TestImages.directory()
        let url = try Fixtures.isoImage("boot.iso", in: directory)
        let bytes = try Fixtures.bytes(url)
        let report = try await inspect(bytes, fileName: "boot.iso")
        #expect(report.format == .iso)
        #expect(report.accepted)
        #expect(report.virtualSize == UInt64(bytes.count))
    }

    @Test func hybridISOWithMBRIsAnISO() async throws {
        var bytes = try Fixtures.bytes(Fixtures.isoImage("hybrid.iso", in: try TestImages.directory()))
        bytes.replace(at: 446, with: [0x80, 0, 1, 0, 0x17, 0xFE, 0xFF, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0])
        bytes.replace(at: 510, with: [0x55, 0xAA])
        let report = try await inspect(bytes, fileName: "hybrid.iso")
        #expect(report.format == .iso)
        #expect(report.accepted)
    }

    @Test func truncatedISOIsRefused() async throws {
        let bytes = try Fixtures.bytes(Fixtures.isoImage("cut.iso", in: try TestImages.directory()))
        let report = try await inspect(Array(bytes.prefix(bytes.count - 4096)), fileName: "cut.iso")
        #expect(report.checks == ["truncated"])
    }

    @Test func backingFileIsRefused() async throws {
        let directory = try TestImages.directory()
        _ = try TestImages.qemuImage("base.qcow2", format: "qcow2", in: directory)
        let url = try TestImages.qemuImage("child.qcow2", format: "qcow2", options: "backing_file=base.qcow2,backing_fmt=qcow2", in: directory)
        let report = try await inspect(Fixtures.bytes(url), fileName: "child.qcow2")
        #expect(report.format == .qcow2)
        #expect(report.checks == ["backing_file"])
    }

    @Test func externalDataFileIsRefused() async throws {
        let directory = try TestImages.directory()
        let url = try TestImages.qemuImage("data.qcow2", format: "qcow2", options: "data_file=host.raw", in: directory)
        let report = try await inspect(Fixtures.bytes(url), fileName: "data.qcow2")
        #expect(report.checks.contains("data_file"))
        #expect(!report.accepted)
    }

    @Test func encryptedQCOW2IsRefused() async throws {
        let url = try TestImages.encryptedImage(
            "secret.qcow2", format: "qcow2", options: "encrypt.format=luks,encrypt.key-secret=sec0", size: "10M", in: try TestImages.directory())
        let report = try await inspect(Fixtures.bytes(url), fileName: "secret.qcow2")
        #expect(report.checks == ["encrypted"])
    }

    @Test func extendedL2IsAnUnknownFeature() async throws {
        let url = try TestImages.qemuImage("l2.qcow2", format: "qcow2", options: "extended_l2=on", in: try TestImages.directory())
        let report = try await inspect(Fixtures.bytes(url), fileName: "l2.qcow2")
        #expect(report.checks == ["unknown_features"])
    }

    @Test(arguments: ["monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat"])
    func splitVMDKsAreDescriptorOnlyAndRefused(_ subformat: String) async throws {
        let url = try TestImages.qemuImage("split.vmdk", format: "vmdk", options: "subformat=\(subformat)", in: try TestImages.directory())
        let report = try await inspect(Fixtures.bytes(url), fileName: "split.vmdk")
        #expect(report.format == .vmdk)
        #expect(report.checks == ["descriptor_only"])
    }

    /// (qemu-img cannot create dmg; `dmgIsRecognisedByItsTrailer` crafts one.)
    @Test(arguments: [("old.qed", "qed"), ("vbox.vdi", "vdi"), ("box.img", "parallels")])
    func refusedFormatsAreNamed(_ name: String, _ format: String) async throws {
        let url = try TestImages.qemuImage(name, format: format, in: try TestImages.directory())
        let report = try await inspect(Fixtures.bytes(url), fileName: name)
        #expect(report.format == .unknown)
        #expect(report.checks == ["format_not_accepted"])
        #expect(report.violations.first?.message.contains(format) == true)
    }

    @Test func luksIsRefused() async throws {
        let url = try TestImages.encryptedImage(
            "disk.img", format: "luks", options: "key-secret=sec0,iter-time=10", size: "4M", in: try TestImages.directory())
        let report = try await inspect(Fixtures.bytes(url), fileName: "disk.img")
        #expect(report.checks == ["format_not_accepted"])
    }

    @Test func declaredFormatMustMatch() async throws {
        let url = try TestImages.qemuImage("disk.qcow2", format: "qcow2", in: try TestImages.directory())
        let bytes = try Fixtures.bytes(url)
        #expect(try await inspect(bytes, fileName: "disk.vmdk").checks == ["format_mismatch"])
        #expect(try await inspect(bytes, fileName: "disk.raw").checks == ["format_mismatch"])
        #expect(try await inspect(bytes, fileName: "disk.iso").checks == ["format_mismatch"])
        #expect(try await inspect(bytes, fileName: "disk.exe").checks == ["file_name"])
        #expect(try await inspect(bytes, fileName: "disk.IMG").accepted)
        let raw = try Fixtures.bytes(try TestImages.qemuImage("plain.raw", format: "raw", size: "1M", in: url.deletingLastPathComponent()))
        #expect(try await inspect(raw, fileName: "plain.qcow2").checks == ["format_mismatch"])
    }

    @Test func mimeTypeMustMatchWhenSpecific() async throws {
        let url = try TestImages.qemuImage("disk.qcow2", format: "qcow2", in: try TestImages.directory())
        let findings = try await RandomAccessInspection.inspect(MemoryBytes(Fixtures.bytes(url)))
        #expect(Judgement.judge(findings, fileName: "disk.qcow2", fileType: "application/octet-stream").accepted)
        #expect(Judgement.judge(findings, fileName: "disk.qcow2", fileType: "application/x-qemu-disk").accepted)
        #expect(Judgement.judge(findings, fileName: "disk.qcow2", fileType: "application/x-iso9660-image").checks == ["format_mismatch"])
    }

    @Test func seekingReadsOnlyTheRegionsItNeeds() async throws {
        let url = try TestImages.qemuImage("big.qcow2", format: "qcow2", size: "4G", options: "preallocation=metadata", in: try TestImages.directory())
        let source = try FileBytes(url)
        #expect(source.size > 4_000_000_000)
        let findings = try await RandomAccessInspection.inspect(source)
        #expect(Judgement.judge(findings, fileName: "big.qcow2").accepted)
        #expect(source.bytesRead < 200_000, "read \(source.bytesRead) bytes of \(source.size)")
    }

    @Test func streamingByteByByte() async throws {
        let url = try TestImages.qemuImage("tiny.qcow2", format: "qcow2", size: "1M", in: try TestImages.directory())
        #expect(try await inspect(Fixtures.bytes(url), fileName: "tiny.qcow2", chunk: 1).accepted)
    }

    @Test(arguments: [7, 511, 4096, 1 << 20])
    func streamingAgreesWhateverTheChunkSize(_ chunk: Int) async throws {
        let directory = try TestImages.directory()
        for (name, format, options) in [("a.vmdk", "vmdk", "subformat=streamOptimized"), ("b.vhdx", "vhdx", nil), ("c.vhd", "vpc", nil)] {
            let bytes = try Fixtures.bytes(try TestImages.qemuImage(name, format: format, size: "1M", options: options, in: directory))
            #expect(try await inspect(bytes, fileName: name, chunk: chunk).accepted)
        }
    }
}
