import ArrowProtocol
import Foundation

/// NetBird enrollment at first boot (`install_vpn`): the setup key and the enrollment's settings reach the machine
/// only through cloud-init at deployment, as files the install_vpn role's first-boot unit reads (it deletes the key
/// whether enrollment worked or not). The host name NetBird registers is the machine's own plus the task's first
/// eight characters, so two machines built alike never collide.
enum Enrollment {
    static let keyFile = "/etc/arrow/netbird-setup-key"
    static let environmentFile = "/etc/arrow/netbird-enroll.env"

    /// The files to deliver, or none when the build does not install the VPN or the organization has no key.
    static func files(image: ImageConfigDocument, client: ClientConfigDocument) -> [NoCloudSeed.File] {
        guard image.ansibleFlags["install_vpn"] == true, let key = client.vpnConfig?.setupKey, !key.isEmpty,
              let url = client.vpnConfig?.managementUrl else { return [] }
        return [
            NoCloudSeed.File(path: keyFile, content: key + "\n"),
            NoCloudSeed.File(path: environmentFile, content: "NETBIRD_MANAGEMENT_URL=\"\(url)\"\nNETBIRD_HOSTNAME=\"\(peerName(image))\"\n"),
        ]
    }

    static func peerName(_ image: ImageConfigDocument) -> String {
        image.hostname.split(separator: ".").first.map(String.init).map { $0 + "-" + image.taskId.prefix(8).lowercased() } ?? image.hostname
    }

    /// What the boot test checks when a key was delivered: the machine enrolled and the key is gone.
    static let checks = [
        VerificationCheck(name: "NetBird enrolled at first boot", command: ["netbird", "status"], expect: ["Management: Connected"]),
        VerificationCheck(name: "the setup key was consumed", command: ["sh", "-c", "! test -e \(keyFile)"]),
    ]
}
