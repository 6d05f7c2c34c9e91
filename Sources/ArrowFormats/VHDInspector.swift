/// VHD ("vpc"): a big-endian 512-byte footer at the end of the file, with a copy at offset 0 for dynamic disks.
///
/// Fixed disks carry the footer only at the end, so unlike qemu's probe and oslo we always read the tail: a fixed
/// VHD is a VHD. Differencing disks name a parent file and are refused.
struct VHDInspector: FormatInspector {
    let format = DetectedFormat.vhd
    static let cookie: [UInt8] = Array("conectix".utf8)
    static let head = Region.at(offset: 0, length: 512)
    static let tail = Region.tail(length: 512)
    static let fixed: UInt32 = 2, dynamic: UInt32 = 3, differencing: UInt32 = 4

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            let head = try need(Self.head, bytes)
            let footer: [UInt8]
            if head.has(Self.cookie, at: 0) {
                footer = head
            } else {
                // Only the end can tell whether a file without a header copy is a fixed VHD.
                let tail = try need(Self.tail, bytes)
                guard tail.count == 512, tail.has(Self.cookie, at: 0) else { throw NotThisFormat() }
                footer = tail
            }
            guard footer.count == 512, let diskType = footer.bigEndian(UInt32.self, at: 60) else {
                return Finding(virtualSize: nil, violations: [.truncated("VHD footer")])
            }
            let virtualSize = Self.virtualSize(footer)
            var violations: [Violation] = []
            if !Self.checksumIsValid(footer) {
                violations.append(Violation(check: "checksum", message: "VHD footer checksum does not match"))
            }
            switch diskType {
            case Self.fixed:
                if head.has(Self.cookie, at: 0) {
                    violations.append(.invalidHeader("VHD fixed disk has a footer copy at offset 0"))
                }
                return Finding(virtualSize: virtualSize, violations: violations, contains: [.gpt])
            case Self.dynamic:
                violations += try dynamicViolations(footer, bytes)
            case Self.differencing:
                violations.append(Violation(check: "differencing", message: "VHD is a differencing disk: it names a parent image"))
            default:
                violations.append(.invalidHeader("VHD disk type \(diskType) is unknown"))
            }
            return Finding(virtualSize: virtualSize, violations: violations)
        }
    }

    /// A dynamic disk keeps a footer copy at 0 that must match the real footer, and a `cxsparse` header where the
    /// footer's data offset points.
    private func dynamicViolations(_ footer: [UInt8], _ bytes: CapturedBytes) throws -> [Violation] {
        let tail = try need(Self.tail, bytes)
        guard tail == footer else {
            return [Violation(check: "footer", message: "VHD footer at the end is missing or differs from the copy at offset 0")]
        }
        guard let dataOffset = footer.bigEndian(UInt64.self, at: 16), dataOffset >= 512, dataOffset < 1 << 40 else {
            return [.invalidHeader("VHD dynamic header offset is invalid")]
        }
        let dynamicHeader = try need(.at(offset: dataOffset, length: 1024), bytes)
        guard dynamicHeader.has(Array("cxsparse".utf8), at: 0) else {
            return [.invalidHeader("VHD dynamic header (cxsparse) is missing")]
        }
        return []
    }

    /// The size qemu reports: from the CHS geometry for images written by Virtual PC or old qemu, otherwise the
    /// footer's current size (block/vpc.c).
    static func virtualSize(_ footer: [UInt8]) -> UInt64? {
        guard let currentSize = footer.bigEndian(UInt64.self, at: 48),
              let cylinders = footer.bigEndian(UInt16.self, at: 56),
              let creator = footer.ascii(at: 28, length: 4) else { return nil }
        let heads = UInt64(footer[58]), sectors = UInt64(footer[59])
        let chsIsMaximum = cylinders == 65535 && heads == 16 && sectors == 255
        if (creator == "vpc " || creator == "qemu") && !chsIsMaximum {
            return UInt64(cylinders) * heads * sectors * 512
        }
        return currentSize
    }

    /// One's complement of the byte sum with the checksum field (64..<68) taken as zero.
    static func checksumIsValid(_ footer: [UInt8]) -> Bool {
        guard let stored = footer.bigEndian(UInt32.self, at: 64) else { return false }
        var sum: UInt32 = 0
        for (index, byte) in footer.enumerated() where !(64..<68).contains(index) { sum &+= UInt32(byte) }
        return ~sum == stored
    }
}
