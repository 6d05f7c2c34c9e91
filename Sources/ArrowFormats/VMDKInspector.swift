/// VMDK: a hosted sparse extent (`KDMV`, little-endian) with its embedded descriptor, or a bare text descriptor.
///
/// We are stricter than oslo: a descriptor-only VMDK is recognised only to be refused, because its extents name
/// other files (CVE-2022-47951), and an embedded descriptor must describe exactly one sparse extent of this file.
struct VMDKInspector: FormatInspector {
    let format = DetectedFormat.vmdk
    static let magic: [UInt8] = Array("KDMV".utf8)
    static let header = Region.at(offset: 0, length: 512)
    static let footer = Region.tail(length: 1536)
    static let gdAtEnd = UInt64.max
    static let allowedCreateTypes = ["monolithicsparse", "streamoptimized"]

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            let header = try need(Self.header, bytes)
            guard header.has(Self.magic, at: 0) else {
                if TextDescriptor.looksLikeDescriptor(header) {
                    return Finding(virtualSize: nil, violations: [Violation(
                        check: "descriptor_only",
                        message: "VMDK descriptor file without a KDMV header: its extents name other files"
                    )])
                }
                throw NotThisFormat()
            }
            guard let version = header.littleEndian(UInt32.self, at: 4),
                  let capacity = header.littleEndian(UInt64.self, at: 12),
                  let descriptorOffset = header.littleEndian(UInt64.self, at: 28),
                  let descriptorSize = header.littleEndian(UInt64.self, at: 36),
                  let gdOffset = header.littleEndian(UInt64.self, at: 56)
            else { return Finding(virtualSize: nil, violations: [.truncated("VMDK header")]) }
            let (virtualSize, overflow) = capacity.multipliedReportingOverflow(by: 512)
            guard !overflow else { return Finding(virtualSize: nil, violations: [.invalidHeader("VMDK capacity overflows")]) }
            guard (1...3).contains(version) else {
                return Finding(virtualSize: virtualSize, violations: [
                    Violation(check: "unsupported_version", message: "VMDK version \(version) is not supported (1 to 3)")
                ])
            }
            guard descriptorOffset == 1, (1...2047).contains(descriptorSize) else {
                return Finding(virtualSize: virtualSize, violations: [Violation(
                    check: "descriptor",
                    message: "VMDK descriptor must follow the header (offset 1, 1 to 2047 sectors); found offset \(descriptorOffset), size \(descriptorSize)"
                )])
            }
            let descriptorRegion = Region.at(offset: 512, length: Int(descriptorSize) * 512)
            var violations = TextDescriptor(try need(descriptorRegion, bytes)).violations()
            if gdOffset == Self.gdAtEnd {
                violations += footerViolations(try need(Self.footer, bytes), header: header)
            }
            return Finding(virtualSize: virtualSize, violations: violations)
        }
    }

    /// A streamOptimized VMDK with its grain directory at the end repeats the header in a footer that qemu
    /// trusts; it must agree with the header we checked (oslo's `footer` check).
    private func footerViolations(_ tail: [UInt8], header: [UInt8]) -> [Violation] {
        let failure = [Violation(check: "footer", message: "VMDK footer is missing or disagrees with the header")]
        guard tail.count == 1536 else { return failure }
        let footerMarker = Array(tail[0..<512]), footerHeader = Array(tail[512..<1024]), endMarker = Array(tail[1024..<1536])
        func isMarker(_ marker: [UInt8], value: UInt64?, type: UInt32) -> Bool {
            guard marker.littleEndian(UInt32.self, at: 8) == 0, marker.littleEndian(UInt32.self, at: 12) == type else { return false }
            if let value, marker.littleEndian(UInt64.self, at: 0) != value { return false }
            return marker[16...].allSatisfy { $0 == 0 }
        }
        guard isMarker(footerMarker, value: nil, type: 3), isMarker(endMarker, value: 0, type: 0),
              footerHeader.has(Self.magic, at: 0),
              footerHeader.littleEndian(UInt32.self, at: 4) == header.littleEndian(UInt32.self, at: 4),
              footerHeader.littleEndian(UInt64.self, at: 28) == header.littleEndian(UInt64.self, at: 28),
              footerHeader.littleEndian(UInt64.self, at: 36) == header.littleEndian(UInt64.self, at: 36),
              footerHeader.littleEndian(UInt64.self, at: 56) != Self.gdAtEnd
        else { return failure }
        return []
    }
}

/// A VMDK text descriptor: `key=value` lines, `ddb.*` lines and extent lines.
struct TextDescriptor {
    let text: String

    init(_ bytes: [UInt8]) {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        text = String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// A bare descriptor file: printable text that declares a createType.
    static func looksLikeDescriptor(_ head: [UInt8]) -> Bool {
        let end = head.firstIndex(of: 0) ?? head.endIndex
        let text = head[..<end]
        guard !text.isEmpty, text.allSatisfy({ (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            return false
        }
        return String(decoding: text, as: UTF8.self).lowercased().contains("createtype=")
    }

    func violations() -> [Violation] {
        var createType: String?
        var extents: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingWhitespace().lowercased()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("ddb.") { continue }
            if let equals = line.firstIndex(of: "="), !line[..<equals].contains(" ") {
                let key = line[..<equals], value = line[line.index(after: equals)...]
                if key == "createtype" { createType = String(value).trimmingQuotes() }
                continue
            }
            if line.hasPrefix("rw ") || line.hasPrefix("rdonly ") || line.hasPrefix("noaccess ") {
                extents.append(line)
                continue
            }
            return [Violation(check: "descriptor", message: "VMDK descriptor has an invalid line")]
        }
        guard let createType, createType.count < 64 else {
            return [Violation(check: "descriptor", message: "VMDK descriptor has no createType")]
        }
        guard VMDKInspector.allowedCreateTypes.contains(createType) else {
            return [Violation(check: "create_type", message: "VMDK createType \"\(createType)\" is not allowed (monolithicSparse, streamOptimized)")]
        }
        guard extents.count == 1 else {
            return [Violation(check: "extents", message: "VMDK descriptor must have exactly one extent; found \(extents.count)")]
        }
        let fields = extents[0].split(separator: " ", omittingEmptySubsequences: true)
        if extents[0].contains("/") || extents[0].contains("\\") {
            return [Violation(check: "extent_path", message: "VMDK extent names a path")]
        }
        guard fields.count >= 4, fields[2] == "sparse" else {
            return [Violation(check: "extents", message: "VMDK extent must be a SPARSE extent of this file")]
        }
        return []
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        let characters = Substring(self)
        guard let first = characters.firstIndex(where: { !$0.isWhitespace }),
              let last = characters.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return characters[first...last]
    }

    func trimmingQuotes() -> String {
        var value = String(trimmingWhitespace())
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
        return value
    }
}
