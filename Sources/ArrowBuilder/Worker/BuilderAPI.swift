import ArrowClient
import ArrowProtocol
import Foundation

/// What the builder needs of the server: the builder API, through the typed client. A port, so the worker's rules
/// (heartbeats, cancel, failure reports) are tested against a recording fake as well as the real server.
public protocol BuilderAPI: TaskLogSink {
    func claim(_ request: ClaimRequest) async throws -> ClaimResponse?
    func report(_ report: TaskStatusReport) async throws -> TaskStatusReply
    func clientConfig(organization: String, lease: APIClient.Lease) async throws -> BuilderClientConfig
    func imageConfig(lease: APIClient.Lease) async throws -> ImageConfigDocument
    func uploadArtifact(lease: APIClient.Lease, path: String, fileName: String, sha256: String) async throws -> ArtifactReceipt
    /// The `download` target: the stored artifact copied to the public area; its stable URL.
    func publishArtifact(lease: APIClient.Lease, imageId: String) async throws -> String
}

extension APIClient: BuilderAPI {}
