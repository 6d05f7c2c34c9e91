/// ISO 9660: the first volume descriptor at 32768 carries `CD001` at 32769; the primary descriptor gives the size.
struct ISOInspector: FormatInspector {
    let format = DetectedFormat.iso
    static let descriptor = Region.at(offset: 32768, length: 2048)

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            let descriptor = try need(Self.descriptor, bytes)
            guard descriptor.has(Array("CD001".utf8), at: 1) else { throw NotThisFormat() }
            guard descriptor.count == 2048 else { return Finding(virtualSize: nil, violations: [.truncated("ISO volume descriptor")]) }
            guard descriptor[0] == 1,
                  let blocks = descriptor.littleEndian(UInt32.self, at: 80),
                  let blockSize = descriptor.littleEndian(UInt16.self, at: 128)
            else { return Finding(virtualSize: nil, violations: [.invalidHeader("ISO first volume descriptor is not a primary volume descriptor")]) }
            guard [512, 1024, 2048].contains(blockSize) else {
                return Finding(virtualSize: nil, violations: [.invalidHeader("ISO logical block size \(blockSize) is invalid")])
            }
            let size = UInt64(blocks) * UInt64(blockSize)
            // The volume may not claim more blocks than the file holds: that is a truncated download.
            if let total = bytes.totalSize, size > total {
                return Finding(virtualSize: size, violations: [.truncated("ISO image (volume is \(size) bytes, file is \(total))")])
            }
            if bytes.totalSize == nil { throw NeedMore(regions: []) }
            return Finding(virtualSize: size)
        }
    }
}

/// An MBR or GPT protective MBR in sector 0 (oslo's "gpt"); what we accept as a raw disk with a partition table.
struct MBRInspector: FormatInspector {
    let format = DetectedFormat.gpt
    static let sector = Region.at(offset: 0, length: 512)

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            let sector = try need(Self.sector, bytes)
            guard sector.count == 512, sector[510] == 0x55, sector[511] == 0xAA else { throw NotThisFormat() }
            // A FAT volume boot record also ends in 55 AA; it is a filesystem, not a partition table.
            if sector[0x10] == 2, sector[0x15] == 0xF8 { throw NotThisFormat() }
            return Finding(virtualSize: bytes.totalSize, violations: Self.violations(sector))
        }
    }

    /// oslo's `mbr` check: valid boot flags, a GPT protective entry only alone and well-formed, at least one entry.
    static func violations(_ sector: [UInt8]) -> [Violation] {
        var defined = 0
        for index in 0..<4 {
            let entry = 446 + index * 16
            let type = sector[entry + 4]
            guard sector[entry] == 0x00 || sector[entry] == 0x80 else {
                return [Violation(check: "mbr", message: "MBR partition \(index + 1) has an invalid boot flag")]
            }
            if type == 0 { continue }
            defined += 1
            if type == 0xEE {
                let startCHS = Array(sector[(entry + 1)...(entry + 3)])
                guard index == 0, startCHS == [0x00, 0x02, 0x00], sector.littleEndian(UInt32.self, at: entry + 8) == 1 else {
                    return [Violation(check: "mbr", message: "GPT protective MBR entry is malformed")]
                }
            }
        }
        if defined == 0 { return [Violation(check: "mbr", message: "MBR has no partitions")] }
        if sector[446 + 4] == 0xEE, defined > 1 {
            return [Violation(check: "mbr", message: "GPT protective MBR has more than one entry")]
        }
        return []
    }
}
