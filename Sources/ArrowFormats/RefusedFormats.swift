/// Formats we recognise only to refuse them with a clear message instead of storing them as "raw".
struct MagicInspector: FormatInspector {
    let format: DetectedFormat
    let region: Region
    let offset: Int
    let magic: [UInt8]

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            guard try need(region, bytes).has(magic, at: offset) else { throw NotThisFormat() }
            return Finding(virtualSize: nil)
        }
    }

    static let all: [MagicInspector] = {
        let head = Region.at(offset: 0, length: 512)
        return [
            MagicInspector(format: .qed, region: head, offset: 0, magic: Array("QED".utf8) + [0]),
            MagicInspector(format: .vdi, region: head, offset: 0x40, magic: [0x7F, 0x10, 0xDA, 0xBE]),
            MagicInspector(format: .luks, region: head, offset: 0, magic: Array("LUKS".utf8) + [0xBA, 0xBE]),
            MagicInspector(format: .parallels, region: head, offset: 0, magic: Array("WithoutFreeSpace".utf8)),
            MagicInspector(format: .parallels, region: head, offset: 0, magic: Array("WithouFreSpacExt".utf8)),
            MagicInspector(format: .bochs, region: head, offset: 0, magic: Array("Bochs Virtual HD Image".utf8)),
            MagicInspector(format: .dmg, region: .tail(length: 512), offset: 0, magic: Array("koly".utf8)),
            MagicInspector(format: .gzip, region: head, offset: 0, magic: [0x1F, 0x8B]),
            MagicInspector(format: .xz, region: head, offset: 0, magic: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
            MagicInspector(format: .zstd, region: head, offset: 0, magic: [0x28, 0xB5, 0x2F, 0xFD]),
            MagicInspector(format: .bzip2, region: head, offset: 0, magic: Array("BZh".utf8)),
        ]
    }()
}
