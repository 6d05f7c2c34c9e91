import ArrowTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Uploads of images other tools made (Debian's grub-rescue-pc hybrid ISO, ipxe, memtest86+), on both databases:
/// accepted with the detected format under `.iso` and the ambiguous `.img`, refused under a misleading extension.
/// `scripts/test.sh` installs the packages.
@Suite struct DistributionImageUploadTests {
    static let shipped = [
        ("/usr/lib/grub-rescue/grub-rescue-usb.img", "grub-rescue-pc"),
        ("/usr/lib/ipxe/ipxe.iso", "ipxe"),
        ("/usr/lib/memtest86+/memtest86+x64.iso", "memtest86+"),
    ]

    struct MissingPackage: Error, CustomStringConvertible { let description: String }

    static func bytes(_ path: String, _ package: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingPackage(description: "\(path) is missing: install the Debian package \(package) (scripts/test.sh does)")
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test(arguments: TestBackend.allCases)
    func hybridISOsUploadUnderIsoAndImg(_ backend: TestBackend) async throws {
        let images = try Self.shipped.map { (URL(fileURLWithPath: $0.0).lastPathComponent, try Self.bytes($0.0, $0.1)) }
        try await Harness.withApp(backend) { client, seed in
            for (name, bytes) in images {
                let stem = name.split(separator: ".").first.map(String.init) ?? name
                for fileName in [name, "\(stem).img", "\(stem).iso"] {
                    let response = try await client.upload(bytes, as: fileName, name: fileName, token: seed.alphaAdmin)
                    #expect(response.status == .created, "\(fileName): \(response.text)")
                    let image = try response.json()
                    #expect(image["format"] as? String == "iso", "\(fileName)")
                    #expect(image["file_type"] as? String == "application/x-iso9660-image", "\(fileName)")
                    #expect(image["status"] as? String == "active", "\(fileName)")
                }
                for misleading in ["\(stem).qcow2", "\(stem).raw", "\(stem).vmdk"] {
                    let response = try await client.upload(bytes, as: misleading, token: seed.alphaAdmin)
                    #expect(response.status == .unprocessableContent, "\(misleading)")
                    let error = try response.json()["error"] as? [String: Any]
                    #expect((error?["violations"] as? [[String: String]])?.map { $0["check"] } == ["format_mismatch"], "\(misleading)")
                }
            }
        }
    }
}
