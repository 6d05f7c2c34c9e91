import ArrowCore
import Foundation

extension ImageRegistry {
    /// A builder's artifact, stored and inspected like any upload, into the task's organization. The caller has
    /// checked the builder's live lease on the task: that, not an upload permission, is what allows it.
    public func storeBuilt(organization: OrganizationID, fileName: String, body: BlobBody, fields: ImageUploadFields, builder: Principal) async throws -> Image {
        try await upload(UploadTicket(principal: builder, organization: organization), fileName: fileName, fileType: nil, body: body,
                         fields: { fields })
    }
}
