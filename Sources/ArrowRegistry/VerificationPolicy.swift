import ArrowCore
import Foundation

/// "Test before production": an organization whose ClientConfig sets `require_verified_images` takes as defaults only
/// images whose boot test passed (the verification a builder's deployment phase stored with the image's provenance).
/// Both documents belong to other modules; this reads the one field of each it needs.
enum VerificationPolicy {
    static func required(for organization: OrganizationID, _ repos: Repositories) async throws -> Bool {
        guard let stored = try await repos.clientConfigs.find(organization: organization),
              let document = try? JSONSerialization.jsonObject(with: Data(stored.document.utf8)) as? [String: Any] else { return false }
        return document["require_verified_images"] as? Bool == true
    }

    static func requirePassed(_ image: ImageID, _ repos: Repositories) async throws {
        let provenance = try await repos.imageBuilds.find(image: image).flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.provenance.utf8)) as? [String: Any]
        }
        let status = (provenance?["verification"] as? [String: Any])?["status"] as? String
        guard status == "passed" else {
            let why = status == "failed" ? "its boot test failed" : "it has no boot test result"
            throw ArrowError(.conflict, reason: "image_not_verified",
                             "Image \(image) cannot be a default: \(why), and this organization requires a passed verification")
        }
    }
}
