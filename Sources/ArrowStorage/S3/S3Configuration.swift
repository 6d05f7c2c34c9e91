import ArrowCore
import Foundation

/// Where and how to reach an S3-compatible store (Backblaze B2 via the seed's `B2_*` variables).
public struct S3Configuration: Sendable, Equatable {
    /// `https://s3.<region>.backblazeb2.com` (`B2_ENDPOINT`).
    public var endpoint: String
    /// The SigV4 region, exactly as the service names it, e.g. `us-west-004` (`B2_REGION`).
    public var region: String
    /// The private bucket holding images, logs and metadata (`B2_BUCKET`).
    public var bucket: String
    /// The bucket for publicly downloadable images (`B2_PUBLIC_BUCKET`), if any.
    public var publicBucket: String?
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Path-style (`endpoint/bucket/key`) or virtual-host-style (`bucket.endpoint/key`) addressing.
    public var pathStyle: Bool
    /// Attempts for idempotent requests (first try included).
    public var maxAttempts: Int

    public init(
        endpoint: String, region: String, bucket: String, publicBucket: String? = nil, accessKeyID: String,
        secretAccessKey: String, pathStyle: Bool = true, maxAttempts: Int = 4
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.bucket = bucket
        self.publicBucket = publicBucket
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.pathStyle = pathStyle
        self.maxAttempts = maxAttempts
    }

    /// Multipart part size for an object of `size` bytes (the rule lives with ``UploadSession``).
    public static func partSize(for size: Int64) -> Int64 { UploadSession.partSize(for: size) }
}

extension S3Configuration: RedactingReflection {
    public var shownFields: KeyValuePairs<String, Any> {
        ["endpoint": endpoint, "region": region, "bucket": bucket, "publicBucket": publicBucket as Any,
         "accessKeyID": accessKeyID, "secretAccessKey": Redacted(secretAccessKey), "pathStyle": pathStyle, "maxAttempts": maxAttempts]
    }
}
