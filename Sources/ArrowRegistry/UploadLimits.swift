/// The spec's upload limits and rate limit, in one place.
public struct UploadLimits: Sendable, Equatable {
    /// Single upload through the API: 1 MiB to 2 GiB.
    public var single: ClosedRange<Int64> = (1 << 20)...(2 << 30)
    /// Multipart upload through presigned parts: 1 MiB to 10 GiB.
    public var multipart: ClosedRange<Int64> = (1 << 20)...(10 << 30)
    /// Metadata files (thumbnails, documents): 1 KiB to 10 MiB.
    public var metadataFile: ClosedRange<Int64> = 1024...(10 << 20)
    /// Upload attempts per user per hour (0 disables the limit).
    public var uploadsPerHour: Int = 5

    public init() {}

    static func describe(_ bytes: Int64) -> String {
        bytes >= 1 << 30 ? "\(bytes >> 30) GiB" : bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB"
    }
}
