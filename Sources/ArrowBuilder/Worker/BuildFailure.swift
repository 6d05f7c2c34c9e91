import ArrowProtocol
import Foundation

/// Why a build failed, as the builder reports it: a stable code (the server's `BuildFailureCode` wire names), a
/// message for people, and the log it points at.
public struct BuildFailure: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case downloadTimeout = "download_timeout"
        case checksumMismatch = "checksum_mismatch"
        case diskSpace = "disk_space"
        case imageUnavailable = "image_unavailable"
        case mountFailed = "mount_failed"
        case packageInstallFailed = "package_install_failed"
        case ansibleFailed = "ansible_failed"
        case scriptFailed = "script_failed"
        case sealFailed = "seal_failed"
        case uploadFailed = "upload_failed"
        case deployFailed = "deploy_failed"
        case deployUploadFailed = "deploy_upload_failed"
        case vmCreateFailed = "vm_create_failed"
        case bootTimeout = "boot_timeout"
        case verifyFailed = "verify_failed"
        case vpnEnrollFailed = "vpn_enroll_failed"
        case apiTimeout = "api_timeout"
        case configInvalid = "config_invalid"
        case internalError = "internal_error"
    }

    public var code: Code
    public var message: String
    /// `download`, `ansible`, `deploy` or `summary`: where the details are.
    public var log: String
    /// A failure after the artifact was stored (at deployment): the artifact and its provenance, reported with it.
    public var artifactImageId: String?
    public var provenance: BuildProvenance?

    public init(_ code: Code, _ message: String, log: String) {
        self.code = code
        self.message = message
        self.log = log
    }

    public var description: String { "\(code.rawValue): \(message) (see \(log).log)" }
}
