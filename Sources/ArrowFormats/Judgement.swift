/// The formats we accept, as reported to users (`unknown` when nothing acceptable was found).
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case iso, qcow2, vmdk, vhd, vhdx, raw, unknown

    /// The MIME type recorded as the image's `file_type`.
    public var mimeType: String {
        switch self {
        case .iso: "application/x-iso9660-image"
        case .qcow2: "application/x-qemu-disk"
        case .vmdk: "application/x-vmdk"
        case .vhd: "application/x-vhd"
        case .vhdx: "application/x-vhdx"
        case .raw, .unknown: "application/octet-stream"
        }
    }
}

/// The verdict on one image: what it is, how big a disk it describes, and every check it failed.
public struct InspectionReport: Sendable, Codable, Equatable {
    public var format: ImageFormat
    public var virtualSize: UInt64
    public var accepted: Bool { violations.isEmpty }
    public var violations: [Violation]

    enum CodingKeys: String, CodingKey {
        case format, virtualSize = "virtual_size", accepted, violations
    }

    public init(format: ImageFormat, virtualSize: UInt64, violations: [Violation]) {
        self.format = format
        self.virtualSize = virtualSize
        self.violations = violations
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(ImageFormat.self, forKey: .format)
        virtualSize = try container.decode(UInt64.self, forKey: .virtualSize)
        violations = try container.decode([Violation].self, forKey: .violations)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(format, forKey: .format)
        try container.encode(virtualSize, forKey: .virtualSize)
        try container.encode(accepted, forKey: .accepted)
        try container.encode(violations, forKey: .violations)
    }

    /// The first violation, for error messages that name one failed check.
    public var firstViolation: Violation? { violations.first }
}

/// Turns inspector findings plus the declared file name (and optional MIME type) into a report.
public enum Judgement {
    static let accepted: [DetectedFormat: ImageFormat] = [.iso: .iso, .qcow2: .qcow2, .vmdk: .vmdk, .vhd: .vhd, .vhdx: .vhdx]
    static let compressed: Set<DetectedFormat> = [.gzip, .xz, .zstd, .bzip2]

    /// The formats a file name may hold. `.img` is ambiguous in practice: raw disks, qcow2 cloud images and the
    /// hybrid ISOs distributions ship for writing to a USB stick all use it, so it declares any of the three and the
    /// detected format is recorded. Every other extension names exactly one format.
    public static func declaredFormats(fileName: String) -> Set<ImageFormat>? {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return nil }
        switch fileName[fileName.index(after: dot)...].lowercased() {
        case "iso": return [.iso]
        case "qcow2", "qcow": return [.qcow2]
        case "vmdk": return [.vmdk]
        case "vhd", "vpc": return [.vhd]
        case "vhdx": return [.vhdx]
        case "raw": return [.raw]
        case "img": return [.raw, .qcow2, .iso]
        default: return nil
        }
    }

    /// The formats a MIME type may hold; generic types constrain nothing.
    static func declaredFormats(mimeType: String) -> Set<ImageFormat>? {
        let type = mimeType.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        switch type {
        case "", "application/octet-stream", "binary/octet-stream": return nil
        default: return Set(ImageFormat.allCases.filter { $0.mimeType == type && $0 != .unknown })
        }
    }

    public static func judge(_ findings: Findings, fileName: String, fileType: String? = nil) -> InspectionReport {
        var report = detect(findings)
        guard report.format != .unknown else { return report }
        if findings.totalSize == 0 {
            report.violations.append(Violation(check: "empty", message: "the file is empty"))
        }
        if let declared = declaredFormats(fileName: fileName) {
            if !declared.contains(report.format) {
                let names = declared.map(\.rawValue).sorted().joined(separator: " or ")
                report.violations.append(Violation(
                    check: "format_mismatch",
                    message: "the file name declares \(names) but the content is \(report.format.rawValue)"
                ))
            }
        } else {
            report.violations.append(Violation(
                check: "file_name",
                message: "the file name must end in .iso, .qcow2, .vmdk, .vhd, .vhdx, .raw or .img"
            ))
        }
        if let fileType, let declared = declaredFormats(mimeType: fileType), !declared.contains(report.format) {
            report.violations.append(Violation(
                check: "format_mismatch",
                message: "file_type \(fileType) does not match the content (\(report.format.rawValue))"
            ))
        }
        return report
    }

    /// The format the content is, before anything declared is compared.
    static func detect(_ findings: Findings) -> InspectionReport {
        var matches = findings.matches
        // A hybrid bootable ISO carries an MBR, and a fixed VHD holds a whole raw disk: both contain a partition table.
        if matches[.gpt] != nil, matches.count > 1,
           matches[.iso] != nil || matches.values.contains(where: { $0.contains.contains(.gpt) }) {
            matches[.gpt] = nil
        }
        if matches.count > 1 {
            let names = matches.keys.map(\.rawValue).sorted().joined(separator: ", ")
            return InspectionReport(format: .unknown, virtualSize: 0, violations: [Violation(
                check: "multiple_formats", message: "the file matches more than one format (\(names)); one is hidden inside another"
            )])
        }
        guard let (detected, finding) = matches.first else {
            return InspectionReport(format: .raw, virtualSize: findings.totalSize, violations: [])
        }
        if detected == .gpt {
            return InspectionReport(format: .raw, virtualSize: findings.totalSize, violations: finding.violations)
        }
        guard let format = accepted[detected] else {
            let message = compressed.contains(detected)
                ? "the file is \(detected.rawValue)-compressed; decompress it before uploading"
                : "\(detected.rawValue) images are not accepted (iso, qcow2, vmdk, vhd, vhdx, raw)"
            return InspectionReport(format: .unknown, virtualSize: 0, violations: [Violation(check: "format_not_accepted", message: message)])
        }
        return InspectionReport(format: format, virtualSize: finding.virtualSize ?? 0, violations: finding.violations)
    }
}
