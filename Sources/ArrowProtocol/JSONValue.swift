import Foundation

/// Any JSON value, for fields the spec leaves open (an image's `metadata`, `map[string]interface{}` in the seed).
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// The ARROW platform's trigger (`POST /api/vm-imaging/trigger`), the seed's `VmImagingWebhookPayload`; it is also
/// the `client_payload` of the GitHub dispatch.
public struct ImagingTriggerPayload: Codable, Sendable, Equatable {
    public var requestId: String
    public var deviceType: String
    public var images: [ImageInfo]
    public var organization: String
    public var client: String
    public var timestamp: String

    public init(requestId: String, deviceType: String, images: [ImageInfo], organization: String, client: String, timestamp: String) {
        self.requestId = requestId
        self.deviceType = deviceType
        self.images = images
        self.organization = organization
        self.client = client
        self.timestamp = timestamp
    }

    /// The seed's `VmImageInfo`.
    public struct ImageInfo: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var metadata: [String: JSONValue]?

        public init(id: String, name: String, metadata: [String: JSONValue]? = nil) {
            self.id = id
            self.name = name
            self.metadata = metadata
        }
    }
}

/// `POST /api/vm-build/trigger`, an administrator's manual build.
public struct ManualBuildRequest: Codable, Sendable, Equatable {
    public var imageId: String
    public var imageName: String?
    public var buildServerId: String?
    public var buildType: String
    public var clientId: String?
    public var organizationId: String?
    public var vmName: String?
    public var description: String?
    public var notifyOnComplete: Bool?

    public init(
        imageId: String, imageName: String? = nil, buildServerId: String? = nil, buildType: String, clientId: String? = nil,
        organizationId: String? = nil, vmName: String? = nil, description: String? = nil, notifyOnComplete: Bool? = nil
    ) {
        self.imageId = imageId
        self.imageName = imageName
        self.buildServerId = buildServerId
        self.buildType = buildType
        self.clientId = clientId
        self.organizationId = organizationId
        self.vmName = vmName
        self.description = description
        self.notifyOnComplete = notifyOnComplete
    }
}
