/// What booting an image and checking it inside showed (the spec's "Test Before Production"): kept with the image's
/// provenance and shown by `GET /api/vm_images/{id}/contents` and `arrow image show`.
public struct ImageVerification: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case passed, failed }

    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        /// What the check printed (its end, when long).
        public var output: String

        public init(name: String, passed: Bool, output: String) {
            self.name = name
            self.passed = passed
            self.output = output
        }
    }

    public var status: Status
    /// `kvm` or `tcg`.
    public var accelerator: String
    /// From starting the VM to SSH answering.
    public var bootSeconds: Double
    /// From starting the VM to the last check.
    public var totalSeconds: Double
    public var checks: [Check]
    /// ISO 8601.
    public var verifiedAt: String

    public init(status: Status, accelerator: String, bootSeconds: Double, totalSeconds: Double, checks: [Check], verifiedAt: String) {
        self.status = status
        self.accelerator = accelerator
        self.bootSeconds = bootSeconds
        self.totalSeconds = totalSeconds
        self.checks = checks
        self.verifiedAt = verifiedAt
    }
}
