import ArrowCore
import ArrowProtocol
import Foundation

/// The checks on a trigger's fields, each failing with a code that names the field.
enum TriggerValidation {
    static func deviceRequest(_ payload: ImagingTriggerPayload, principal: Principal, at: Date) throws -> DeviceRequest {
        try identifier(payload.requestId, "request_id")
        guard DeviceType(rawValue: payload.deviceType) != nil else {
            throw ArrowError(.unprocessable, reason: "invalid_device_type", "device_type must be pvm or vm")
        }
        guard !payload.images.isEmpty else { throw ArrowError(.unprocessable, reason: "no_images", "images names at least one image") }
        guard payload.images.count <= 32 else { throw ArrowError(.unprocessable, reason: "too_many_images", "At most 32 images per request") }
        let ids = payload.images.map(\.id)
        for id in ids { try identifier(id, "images[].id") }
        guard Set(ids).count == ids.count else {
            throw ArrowError(.unprocessable, reason: "duplicate_image", "A device request names each image once")
        }
        try text(payload.client, "client", max: 128)
        guard !payload.client.isEmpty else { throw ArrowError(.unprocessable, reason: "invalid_client", "client is required") }
        guard parseTimestamp(payload.timestamp) != nil else {
            throw ArrowError(.unprocessable, reason: "invalid_timestamp", "timestamp must be ISO 8601, like 2024-01-15T10:30:00Z")
        }
        let organization = try organization(payload.organization, principal: principal)
        return DeviceRequest(
            id: DeviceRequestID(payload.requestId), organizationID: organization, deviceType: payload.deviceType, client: payload.client,
            imageIDs: ids.map { ImageID($0) }, createdAt: at)
    }

    /// The organization a trigger is for: the caller's own; a superuser names any.
    static func organization(_ named: String?, principal: Principal) throws -> OrganizationID {
        if let named, !named.isEmpty {
            let id = OrganizationID(named)
            guard principal.scope.includes(id) else { throw ArrowError.notFound("Organization") }
            return id
        }
        guard let own = principal.user.organizationID else {
            throw ArrowError(.unprocessable, reason: "organization_required", "Name the organization the build is for")
        }
        return own
    }

    static func identifier(_ value: String, _ field: String) throws {
        guard (1...128).contains(value.count),
              value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) })
        else {
            throw ArrowError(.unprocessable, reason: "invalid_\(field.replacingOccurrences(of: "[].", with: "_"))",
                             "\(field): 1 to 128 letters, digits, '-', '_', '.', ':'")
        }
    }

    static func text(_ value: String?, _ field: String, max: Int) throws {
        guard let value else { return }
        guard value.count <= max, !value.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) }) else {
            throw ArrowError(.unprocessable, reason: "invalid_\(field)", "\(field): at most \(max) characters on one line")
        }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
