/// VHDX (MS-VHDX, little-endian): file identifier at 0, region table at 192 KiB, metadata region with the
/// virtual disk size. Capture sizes are capped whatever the tables claim (the oslo d4d33ee memory fix).
struct VHDXInspector: FormatInspector {
    let format = DetectedFormat.vhdx
    static let identifier: [UInt8] = Array("vhdxfile".utf8)
    static let head = Region.at(offset: 0, length: 8)
    static let regionTable = Region.at(offset: 0x30000, length: 65536)
    static let metadataRegionGUID = "8B7CA206-4790-4B9A-B8FE-575F050F886E"
    static let batRegionGUID = "2DC27766-F623-4200-9D64-115E9BFD4A08"
    static let virtualDiskSizeGUID = "2FA54224-CD1B-4876-B211-5DBED83BF4B8"
    static let fileParametersGUID = "CAA16737-FA36-4D43-B3B6-33F0AA44E76B"
    static let parentLocatorGUID = "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C"
    static let knownMetadataGUIDs: Set<String> = [
        virtualDiskSizeGUID, fileParametersGUID, parentLocatorGUID,
        "BECA12AB-B2E6-4523-93EF-C309E000C746", // page 83 data
        "8141BF1D-A96F-4709-BA47-F233A8FAAB5F", // logical sector size
        "CDA348C7-445D-4471-9CC9-E9885251C556", // physical sector size
    ]
    static let maximumEntries = 2047

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            guard try need(Self.head, bytes).has(Self.identifier, at: 0) else { throw NotThisFormat() }
            let table = try need(Self.regionTable, bytes)
            guard table.has(Array("regi".utf8), at: 0), let count = table.littleEndian(UInt32.self, at: 8) else {
                return Finding(virtualSize: nil, violations: [.invalidHeader("VHDX region table is missing")])
            }
            guard count <= Self.maximumEntries, 16 + Int(count) * 32 <= table.count else {
                return Finding(virtualSize: nil, violations: [.invalidHeader("VHDX region table has \(count) entries")])
            }
            var metadataOffset: UInt64?
            for index in 0..<Int(count) {
                let entry = 16 + index * 32
                let guid = Self.guid(table, at: entry)
                let required = table.littleEndian(UInt32.self, at: entry + 28) ?? 0
                if guid == Self.metadataRegionGUID { metadataOffset = table.littleEndian(UInt64.self, at: entry + 16) }
                if guid != Self.metadataRegionGUID, guid != Self.batRegionGUID, required & 1 != 0 {
                    return Finding(virtualSize: nil, violations: [.invalidHeader("VHDX requires an unknown region \(guid)")])
                }
            }
            guard let metadataOffset else {
                return Finding(virtualSize: nil, violations: [.invalidHeader("VHDX has no metadata region")])
            }
            return try metadataFinding(bytes, regionOffset: metadataOffset)
        }
    }

    private func metadataFinding(_ bytes: CapturedBytes, regionOffset: UInt64) throws -> Finding {
        let table = try need(.at(offset: regionOffset, length: 65536), bytes)
        guard table.has(Array("metadata".utf8), at: 0), let count = table.littleEndian(UInt16.self, at: 10),
              count <= Self.maximumEntries, 32 + Int(count) * 32 <= table.count
        else { return Finding(virtualSize: nil, violations: [.invalidHeader("VHDX metadata table is invalid")]) }
        var violations: [Violation] = []
        var sizeItem: (offset: UInt32, length: UInt32)?
        for index in 0..<Int(count) {
            let entry = 32 + index * 32
            let guid = Self.guid(table, at: entry)
            let offset = table.littleEndian(UInt32.self, at: entry + 16) ?? 0
            let length = table.littleEndian(UInt32.self, at: entry + 20) ?? 0
            let flags = table.littleEndian(UInt32.self, at: entry + 24) ?? 0
            if guid == Self.virtualDiskSizeGUID { sizeItem = (offset, length) }
            if guid == Self.parentLocatorGUID {
                violations.append(Violation(check: "differencing", message: "VHDX is a differencing disk: it has a parent locator"))
            } else if flags & 0x4 != 0, !Self.knownMetadataGUIDs.contains(guid) {
                violations.append(.invalidHeader("VHDX requires unknown metadata \(guid)"))
            }
        }
        guard let sizeItem, sizeItem.length >= 8 else {
            return Finding(virtualSize: nil, violations: violations + [.invalidHeader("VHDX has no virtual disk size")])
        }
        let (itemOffset, overflow) = regionOffset.addingReportingOverflow(UInt64(sizeItem.offset))
        guard !overflow else { return Finding(virtualSize: nil, violations: violations + [.invalidHeader("VHDX virtual disk size offset overflows")]) }
        let item = try need(.at(offset: itemOffset, length: 8), bytes)
        guard let size = item.littleEndian(UInt64.self, at: 0) else {
            return Finding(virtualSize: nil, violations: violations + [.truncated("VHDX virtual disk size")])
        }
        return Finding(virtualSize: size, violations: violations)
    }

    /// A GUID as text; the first three fields are little-endian on disk.
    static func guid(_ bytes: [UInt8], at offset: Int) -> String {
        guard offset + 16 <= bytes.count else { return "" }
        let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
        let hex = order.map { index in
            let value = String(bytes[offset + index], radix: 16, uppercase: true)
            return value.count == 1 ? "0" + value : value
        }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }
}
