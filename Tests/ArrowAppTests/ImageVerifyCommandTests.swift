import Foundation
import Testing

/// `arrow image verify`'s refusals, which need no VM (the boot itself runs in the builder's end-to-end suite and in
/// scripts/bench/boot.sh).
@Suite struct ImageVerifyCommandTests {
    @Test func anUnknownAcceleratorIsRefused() throws {
        let (status, _, err) = try ArrowProcess.run(["image", "verify", "--file", "/dev/null", "--accel", "hvf"])
        #expect(status != 0 && err.contains("--accel is kvm or tcg"), "\(err)")
    }

    @Test func aMissingFileFailsWithATypedReason() throws {
        let (status, _, err) = try ArrowProcess.run(["image", "verify", "--file", "/nonexistent/disk.qcow2", "--accel", "tcg"])
        #expect(status == 1, "\(err)")
        #expect(err.contains("deploy_failed") && err.contains("qemu-img"), "\(err)")
    }
}
