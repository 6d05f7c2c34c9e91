@testable import ArrowFormats
import ArrowTesting
import Foundation
import Testing

/// Random and mutated headers through both drivers: never a crash or a hang, memory stays bounded, and the two
/// drivers agree unless the stream could not see a structure that points backwards.
struct FuzzTests {
    /// Wall-clock budget for the whole fuzz run, so CI time stays bounded (`ARROW_FUZZ_SECONDS` to run longer).
    static let budget: Duration = .seconds(Int(ProcessInfo.processInfo.environment["ARROW_FUZZ_SECONDS"] ?? "") ?? 20)
    static let retainedLimit = 4 << 20

    /// Seeds: one small image per format, cut to the regions that matter so each iteration stays cheap.
    static func seeds() throws -> [(String, [UInt8])] {
        let directory = try TestImages.directory()
        func image(_ name: String, _ format: String, _ options: String? = nil) throws -> [UInt8] {
            try Fixtures.bytes(TestImages.qemuImage(name, format: format, size: "1M", options: options, in: directory))
        }
        return [
            ("a.qcow2", try image("a.qcow2", "qcow2")),
            ("b.vmdk", try image("b.vmdk", "vmdk")),
            ("c.vmdk", try image("c.vmdk", "vmdk", "subformat=streamOptimized")),
            ("d.vhd", try image("d.vhd", "vpc")),
            ("e.vhd", try image("e.vhd", "vpc", "subformat=fixed")),
            ("f.vhdx", Array(try image("f.vhdx", "vhdx").prefix(3 << 20))),
            ("g.iso", try Fixtures.bytes(Fixtures.isoImage("g.iso", in: directory))),
            ("h.img", try image("h.img", "qed")),
            ("i.vdi", try image("i.vdi", "vdi")),
        ]
    }

    /// Offsets where headers live: mutations land there most of the time.
    static let hotSpots: [Range<Int>] = [0..<1024, 0x8000..<0x8800, 0x30000..<0x30100, 0x100000..<0x100400, 0x200000..<0x200200]

    @Test func mutatedHeadersNeverCrashAndDriversAgree() async throws {
        var random = SeededRandom(seed: 0xA770_1234)
        let seeds = try Self.seeds()
        let clock = ContinuousClock()
        let deadline = clock.now + Self.budget
        var iterations = 0
        while clock.now < deadline {
            let (name, seed) = seeds[Int(random.next() % UInt64(seeds.count))]
            var bytes = seed
            let mutations = 1 + Int(random.next() % 8)
            for _ in 0..<mutations { Self.mutate(&bytes, with: &random) }
            let chunk = [1 << 20, 65536, 4093, 512][Int(random.next() % 4)]
            try await Self.check(bytes, fileName: name, chunk: chunk)
            iterations += 1
        }
        #expect(iterations > 50, "only \(iterations) iterations ran in \(Self.budget)")
    }

    @Test func randomBytesOfEveryLength() async throws {
        var random = SeededRandom(seed: 77)
        for length in [0, 1, 3, 4, 7, 8, 100, 511, 512, 513, 1535, 1536, 4096, 32769, 34816, 70000] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                try await Self.check(bytes, fileName: "r.img", chunk: 1 + Int(random.next() % 5000))
            }
        }
    }

    @Test func magicNumbersOnRandomBodies() async throws {
        var random = SeededRandom(seed: 9)
        let magics: [(Int, [UInt8])] = [
            (0, [0x51, 0x46, 0x49, 0xFB]), (0, Array("KDMV".utf8)), (0, Array("conectix".utf8)),
            (0, Array("vhdxfile".utf8)), (32769, Array("CD001".utf8)), (510, [0x55, 0xAA]),
        ]
        for (offset, magic) in magics {
            for _ in 0..<40 {
                var bytes = (0..<(offset + 1024 + Int(random.next() % 300_000))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                bytes.replace(at: offset, with: magic)
                if random.next() % 2 == 0, bytes.count > 0x30004 { bytes.replace(at: 0x30000, with: Array("regi".utf8)) }
                try await Self.check(bytes, fileName: "m.img", chunk: 1 + Int(random.next() % 70000))
            }
        }
    }

    static func mutate(_ bytes: inout [UInt8], with random: inout SeededRandom) {
        guard !bytes.isEmpty else { return }
        let spot = hotSpots[Int(random.next() % UInt64(hotSpots.count))]
        var offset = spot.lowerBound + Int(random.next() % UInt64(spot.count))
        if random.next() % 4 == 0 { offset = bytes.count - 1 - Int(random.next() % UInt64(min(bytes.count, 1536))) }
        guard offset < bytes.count else { return }
        switch random.next() % 5 {
        case 0: bytes[offset] = UInt8(truncatingIfNeeded: random.next())
        case 1: bytes[offset] ^= 1 << UInt8(random.next() % 8)
        case 2: // a large or small integer, as a hostile header field would carry
            let value: UInt64 = [0, 1, UInt64.max, UInt64(UInt32.max), 1 << 40, random.next()][Int(random.next() % 6)]
            for index in 0..<min(8, bytes.count - offset) { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (index * 8)) }
        case 3: bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
        default: bytes[offset] = 0
        }
    }

    static func check(_ bytes: [UInt8], fileName: String, chunk: Int) async throws {
        let seeking = Judgement.judge(try await RandomAccessInspection.inspect(MemoryBytes(bytes)), fileName: fileName)
        let (findings, peak) = stream(bytes, chunk: chunk)
        let streaming = Judgement.judge(findings, fileName: fileName)
        #expect(peak <= retainedLimit, "retained \(peak) bytes")
        if !streaming.checks.contains("unreadable_structure") {
            #expect(seeking == streaming, "drivers disagree on \(fileName) (\(bytes.count) bytes)")
        }
    }
}

/// SplitMix64: reproducible runs from a fixed seed.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
