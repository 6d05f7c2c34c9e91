/// The inspectors every driver runs side by side.
enum Inspectors {
    static let all: [any FormatInspector] = [
        QCOW2Inspector(), VMDKInspector(), VHDInspector(), VHDXInspector(), ISOInspector(), MBRInspector(),
    ] + MagicInspector.all

    /// The violation for an inspector whose header points back at bytes a stream has already passed.
    static func unreadable(_ format: DetectedFormat) -> Finding {
        Finding(virtualSize: nil, violations: [Violation(
            check: "unreadable_structure",
            message: "\(format.rawValue) structures point at data that cannot be read in order; refusing rather than guessing"
        )])
    }
}

/// The verdicts of all inspectors, as drivers collect them.
public struct Findings: Sendable, Equatable {
    public var matches: [DetectedFormat: Finding] = [:]
    public var totalSize: UInt64 = 0

    mutating func record(_ format: DetectedFormat, _ finding: Finding) {
        // Two magic inspectors can share a format (parallels has two signatures); keep the first.
        if matches[format] == nil { matches[format] = finding }
    }
}
