@testable import ArrowFormats
import ArrowTesting
import Foundation
import Testing

/// Crafted bytes for every safety check: each names the check it must trip.
struct HostileBytesTests {
    static func qcow2(_ size: String = "1M", options: String? = nil) throws -> [UInt8] {
        try Fixtures.bytes(TestImages.qemuImage("x.qcow2", format: "qcow2", size: size, options: options, in: TestImages.directory()))
    }

    @Test func qcow2HiddenInISOSystemAreaIsHostile() async throws {
        var iso = try Fixtures.bytes(Fixtures.isoImage("evil.iso", in: try TestImages.directory()))
        let header = try Self.qcow2()
        iso.replace(at: 0, with: Array(header.prefix(512)))
        let report = try await inspect(iso, fileName: "evil.iso")
        #expect(report.format == .unknown)
        #expect(report.checks == ["multiple_formats"])
    }

    @Test(arguments: [UInt32(1), 4, 0xFFFF_FFFF])
    func qcow2VersionsOtherThanTwoAndThree(_ version: UInt32) async throws {
        var bytes = try Self.qcow2()
        bytes.setBigEndian(version, at: 4)
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks == ["unsupported_version"])
    }

    @Test func qcow2CorruptBit() async throws {
        var bytes = try Self.qcow2()
        bytes[79] |= 0x02
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks == ["corrupt"])
    }

    @Test func qcow2DataFileBitAloneIsEnough() async throws {
        var bytes = try Self.qcow2()
        bytes[79] |= 0x04
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks.contains("data_file"))
    }

    @Test func qcow2DataFileExtensionWithoutTheBit() async throws {
        var bytes = try Self.qcow2()
        let length = Int(bytes.bigEndian(UInt32.self, at: 100)!)
        // Shift nothing: write the extension where the extension area starts (qemu wrote its own there).
        bytes.setBigEndian(UInt32(0x4441_5441), at: length)
        bytes.setBigEndian(UInt32(9), at: length + 4)
        bytes.replace(at: length + 8, with: Array("/etc/pass".utf8))
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks == ["data_file"])
    }

    @Test func qcow2ExtensionRunningPastTheCluster() async throws {
        var bytes = try Self.qcow2()
        let length = Int(bytes.bigEndian(UInt32.self, at: 100)!)
        bytes.setBigEndian(UInt32(0x1234_5678), at: length)
        bytes.setBigEndian(UInt32(0x00FF_FFFF), at: length + 4)
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks == ["invalid_header"])
    }

    @Test(arguments: [4, 40, 100, 300])
    func truncatedQCOW2(_ length: Int) async throws {
        let bytes = Array(try Self.qcow2().prefix(length))
        let report = try await inspect(bytes, fileName: "x.qcow2")
        #expect(report.format == .qcow2)
        #expect(report.checks.contains("truncated"))
    }

    @Test func qcow2BadClusterBits() async throws {
        var bytes = try Self.qcow2()
        bytes.setBigEndian(UInt32(40), at: 20)
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks == ["invalid_header"])
    }

    // MARK: VMDK

    static func vmdk(_ subformat: String = "monolithicSparse") throws -> [UInt8] {
        try Fixtures.bytes(TestImages.qemuImage("x.vmdk", format: "vmdk", size: "1M", options: "subformat=\(subformat)", in: TestImages.directory()))
    }

    /// Rewrites the embedded descriptor (at 512) with `text`, zero-padded to its original size.
    static func withDescriptor(_ text: String, in bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let size = Int(bytes.littleEndian(UInt64.self, at: 36)!) * 512
        var descriptor = Array(text.utf8)
        descriptor += [UInt8](repeating: 0, count: size - descriptor.count)
        bytes.replace(at: 512, with: descriptor)
        return bytes
    }

    @Test func descriptorOnlyVMDKPointingAtHostFile() async throws {
        let text = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/shadow\" 0\n"
        let report = try await inspect(Array(text.utf8), fileName: "shadow.vmdk")
        #expect(report.format == .vmdk)
        #expect(report.checks == ["descriptor_only"])
    }

    @Test func embeddedFlatCreateType() async throws {
        let bytes = Self.withDescriptor("version=1\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"x-flat.vmdk\" 0\n", in: try Self.vmdk())
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["create_type"])
    }

    @Test func extentNamingAPath() async throws {
        let bytes = Self.withDescriptor("version=1\ncreateType=\"monolithicSparse\"\nRW 2048 SPARSE \"/etc/shadow\"\n", in: try Self.vmdk())
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["extent_path"])
    }

    @Test func twoExtents() async throws {
        let bytes = Self.withDescriptor("createType=\"monolithicSparse\"\nRW 1024 SPARSE \"a.vmdk\"\nRW 1024 SPARSE \"b.vmdk\"\n", in: try Self.vmdk())
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["extents"])
    }

    @Test func malformedDescriptorLine() async throws {
        let bytes = Self.withDescriptor("createType=\"monolithicSparse\"\nthis is not a descriptor line\nRW 2048 SPARSE \"x.vmdk\"\n", in: try Self.vmdk())
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["descriptor"])
    }

    @Test func descriptorNotAfterHeader() async throws {
        var bytes = try Self.vmdk()
        bytes.setLittleEndian(UInt64(7), at: 28)
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["descriptor"])
    }

    @Test func unsupportedVMDKVersion() async throws {
        var bytes = try Self.vmdk()
        bytes.setLittleEndian(UInt32(9), at: 4)
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["unsupported_version"])
    }

    @Test func streamOptimizedFooterMustMatchHeader() async throws {
        // A streamOptimized writer that does not know the grain directory's place in advance says "at the end"
        // in the header and appends footer marker, footer header and end-of-stream marker.
        var bytes = try Self.vmdk("streamOptimized")
        var footerHeader = Array(bytes.prefix(512))
        bytes.setLittleEndian(UInt64.max, at: 56)
        var footerMarker = [UInt8](repeating: 0, count: 512)
        footerMarker.setLittleEndian(UInt32(3), at: 12)
        bytes += footerMarker + footerHeader + [UInt8](repeating: 0, count: 512)
        #expect(try await inspect(bytes, fileName: "x.vmdk").accepted)
        // Point the footer's descriptor somewhere the stream check never saw.
        footerHeader.setLittleEndian(UInt64(5), at: 28)
        bytes.replace(at: bytes.count - 1024, with: footerHeader)
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["footer"])
        bytes.removeLast(512)
        #expect(try await inspect(bytes, fileName: "x.vmdk").checks == ["footer"])
    }

    // MARK: VHD

    static func vhd(_ subformat: String = "dynamic") throws -> [UInt8] {
        try Fixtures.bytes(TestImages.qemuImage("x.vhd", format: "vpc", size: "1M", options: "subformat=\(subformat)", in: TestImages.directory()))
    }

    static func resealFooter(_ bytes: inout [UInt8], at offset: Int) {
        bytes.setBigEndian(UInt32(0), at: offset + 64)
        var sum: UInt32 = 0
        for byte in bytes[offset..<(offset + 512)] { sum &+= UInt32(byte) }
        bytes.setBigEndian(~sum, at: offset + 64)
    }

    @Test func differencingVHD() async throws {
        var bytes = try Self.vhd()
        for offset in [0, bytes.count - 512] {
            bytes.setBigEndian(UInt32(4), at: offset + 60)
            Self.resealFooter(&bytes, at: offset)
        }
        #expect(try await inspect(bytes, fileName: "x.vhd").checks == ["differencing"])
    }

    @Test func vhdChecksum() async throws {
        var bytes = try Self.vhd("fixed")
        bytes[bytes.count - 512 + 100] ^= 0xFF
        #expect(try await inspect(bytes, fileName: "x.vhd").checks == ["checksum"])
    }

    @Test func dynamicVHDFooterCopiesMustAgree() async throws {
        var bytes = try Self.vhd()
        bytes.setBigEndian(UInt64(1 << 40), at: bytes.count - 512 + 48)
        Self.resealFooter(&bytes, at: bytes.count - 512)
        #expect(try await inspect(bytes, fileName: "x.vhd").checks == ["footer"])
    }

    @Test func fixedVHDHoldingAPartitionedDisk() async throws {
        var bytes = try Self.vhd("fixed")
        bytes.replace(at: 446, with: [0x00, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0x07, 0, 0])
        bytes.replace(at: 510, with: [0x55, 0xAA])
        let report = try await inspect(bytes, fileName: "x.vhd")
        #expect(report.format == .vhd)
        #expect(report.accepted)
    }

    // MARK: VHDX

    static func vhdx() throws -> [UInt8] {
        try Fixtures.bytes(TestImages.qemuImage("x.vhdx", format: "vhdx", size: "1M", in: TestImages.directory()))
    }

    static func metadataTableOffset(_ bytes: [UInt8]) -> Int {
        let count = Int(bytes.littleEndian(UInt32.self, at: 0x30000 + 8)!)
        for index in 0..<count where VHDXInspector.guid(bytes, at: 0x30000 + 16 + index * 32) == VHDXInspector.metadataRegionGUID {
            return Int(bytes.littleEndian(UInt64.self, at: 0x30000 + 16 + index * 32 + 16)!)
        }
        return -1
    }

    @Test func vhdxWithParentLocatorIsDifferencing() async throws {
        var bytes = try Self.vhdx()
        let table = Self.metadataTableOffset(bytes)
        // Turn the page-83 item into a parent locator: GUID A8D35F2D-B30B-454D-ABF7-D3D84834AB0C, mixed-endian.
        let count = Int(bytes.littleEndian(UInt16.self, at: table + 10)!)
        let parent: [UInt8] = [0x2D, 0x5F, 0xD3, 0xA8, 0x0B, 0xB3, 0x4D, 0x45, 0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C]
        let page83 = (0..<count).first { VHDXInspector.guid(bytes, at: table + 32 + $0 * 32) == "BECA12AB-B2E6-4523-93EF-C309E000C746" }!
        bytes.replace(at: table + 32 + page83 * 32, with: parent)
        #expect(VHDXInspector.guid(bytes, at: table + 32 + page83 * 32) == VHDXInspector.parentLocatorGUID)
        #expect(try await inspect(bytes, fileName: "x.vhdx").checks == ["differencing"])
    }

    @Test func vhdxHugeRegionTable() async throws {
        var bytes = try Self.vhdx()
        bytes.setLittleEndian(UInt32(1_000_000), at: 0x30000 + 8)
        #expect(try await inspect(bytes, fileName: "x.vhdx").checks == ["invalid_header"])
    }

    @Test func vhdxMetadataOffsetBeyondTheFile() async throws {
        var bytes = try Self.vhdx()
        let count = Int(bytes.littleEndian(UInt32.self, at: 0x30000 + 8)!)
        for index in 0..<count where VHDXInspector.guid(bytes, at: 0x30000 + 16 + index * 32) == VHDXInspector.metadataRegionGUID {
            bytes.setLittleEndian(UInt64(1 << 50), at: 0x30000 + 16 + index * 32 + 16)
        }
        #expect(try await inspect(bytes, fileName: "x.vhdx").checks == ["invalid_header"])
    }

    // MARK: Raw, refused and compressed

    @Test func gptProtectiveMBR() async throws {
        var disk = [UInt8](repeating: 0, count: 1 << 20)
        disk.replace(at: 446, with: [0x00, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0x07, 0, 0])
        disk.replace(at: 510, with: [0x55, 0xAA])
        #expect(try await inspect(disk, fileName: "disk.raw").accepted)
        disk[446 + 8] = 5 // protective entry must start at LBA 1
        #expect(try await inspect(disk, fileName: "disk.raw").checks == ["mbr"])
    }

    @Test func realPartitionTableFromSfdisk() async throws {
        let directory = try TestImages.directory()
        let url = try TestImages.qemuImage("parted.img", format: "raw", size: "8M", in: directory)
        let script = directory.appendingPathComponent("layout")
        try Data("label: gpt\n,4M\n,\n".utf8).write(to: script)
        try TestImages.run("sh", ["-c", "sfdisk -q parted.img < layout"], in: directory)
        let report = try await inspect(Fixtures.bytes(url), fileName: "parted.img")
        #expect(report.format == .raw)
        #expect(report.accepted)
        #expect(report.virtualSize == 8 << 20)
    }

    @Test func emptyFile() async throws {
        #expect(try await inspect([], fileName: "empty.raw").checks == ["empty"])
    }

    @Test(arguments: [
        ([0x1F, 0x8B, 0x08, 0x00], "gzip"), ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz"),
        ([0x28, 0xB5, 0x2F, 0xFD], "zstd"), (Array("BZh9".utf8), "bzip2"),
    ] as [([UInt8], String)])
    func compressedFilesAreNamed(_ magic: [UInt8], _ name: String) async throws {
        let bytes = magic + [UInt8](repeating: 7, count: 4000)
        let report = try await inspect(bytes, fileName: "disk.img")
        #expect(report.checks == ["format_not_accepted"])
        #expect(report.violations[0].message.contains("\(name)-compressed"))
    }

    @Test func dmgIsRecognisedByItsTrailer() async throws {
        var bytes = [UInt8](repeating: 0, count: 8192)
        bytes.replace(at: 8192 - 512, with: Array("koly".utf8))
        #expect(try await inspect(bytes, fileName: "mac.img").checks == ["format_not_accepted"])
    }

    @Test func twoHeadersAtOnceAreHostile() async throws {
        // A dynamic VHD footer at the end of a qcow2: both match, so neither is trusted.
        var bytes = try Self.qcow2()
        let footer = Array(try Self.vhd("fixed").suffix(512))
        bytes += footer
        #expect(try await inspect(bytes, fileName: "x.qcow2").checks == ["multiple_formats"])
    }
}
