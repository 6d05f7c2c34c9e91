@testable import ArrowFormats
import Foundation
import Testing

/// Images that Debian packages ship, made by other tools than ours (grub-mkrescue, ipxe's and memtest86+'s own
/// builds): the hybrid ISOs a new user tries first. `scripts/test.sh` installs the packages.
struct DistributionImageTests {
    struct Shipped: Sendable, CustomStringConvertible {
        let path: String
        let package: String
        var description: String { path }
        var fileName: String { URL(fileURLWithPath: path).lastPathComponent }

        func bytes() throws -> [UInt8] {
            guard FileManager.default.fileExists(atPath: path) else {
                throw MissingPackage(description: "\(path) is missing: install the Debian package \(package) (scripts/test.sh does)")
            }
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    struct MissingPackage: Error, CustomStringConvertible { let description: String }

    static let shipped: [Shipped] = [
        Shipped(path: "/usr/lib/grub-rescue/grub-rescue-cdrom.iso", package: "grub-rescue-pc"),
        Shipped(path: "/usr/lib/grub-rescue/grub-rescue-usb.img", package: "grub-rescue-pc"),
        Shipped(path: "/usr/lib/grub-rescue/grub-rescue-floppy.img", package: "grub-rescue-pc"),
        Shipped(path: "/usr/lib/ipxe/ipxe.iso", package: "ipxe"),
        Shipped(path: "/usr/lib/memtest86+/memtest86+x64.iso", package: "memtest86+"),
        Shipped(path: "/usr/lib/memtest86+/memtest86+ia32.iso", package: "memtest86+"),
    ]

    @Test(arguments: shipped)
    func acceptedAsISOUnderItsOwnName(_ image: Shipped) async throws {
        let bytes = try image.bytes()
        let report = try await inspect(bytes, fileName: image.fileName)
        #expect(report.format == .iso)
        #expect(report.violations == [])
        #expect(report.virtualSize > 0 && report.virtualSize <= UInt64(bytes.count))
    }

    /// `.img` is ambiguous (raw, qcow2 or a hybrid ISO), `.iso` is not: each shipped image passes under both.
    @Test(arguments: shipped)
    func acceptedUnderTheAmbiguousAndTheISOExtension(_ image: Shipped) async throws {
        let bytes = try image.bytes()
        for name in ["stick.img", "stick.IMG", "cdrom.iso"] {
            let report = try await inspect(bytes, fileName: name)
            #expect(report.format == .iso, "\(name)")
            #expect(report.accepted, "\(name): \(report.violations)")
        }
    }

    /// The same bytes under an extension that names one other format are still refused.
    @Test(arguments: shipped)
    func refusedUnderAMisleadingUnambiguousExtension(_ image: Shipped) async throws {
        let bytes = try image.bytes()
        for name in ["disk.qcow2", "disk.raw", "disk.vmdk", "disk.vhd", "disk.vhdx"] {
            let report = try await inspect(bytes, fileName: name)
            #expect(report.format == .iso, "\(name)")
            #expect(report.checks == ["format_mismatch"], "\(name): \(report.violations)")
        }
    }

    @Test func declaredFormatsByExtension() {
        #expect(Judgement.declaredFormats(fileName: "a.img") == [.raw, .qcow2, .iso])
        #expect(Judgement.declaredFormats(fileName: "a.iso") == [.iso])
        #expect(Judgement.declaredFormats(fileName: "a.raw") == [.raw])
        #expect(Judgement.declaredFormats(fileName: "a.qcow2") == [.qcow2])
        #expect(Judgement.declaredFormats(fileName: "a.exe") == nil)
    }
}
