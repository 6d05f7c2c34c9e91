/// A file or object the inspector may read at any offset: a local file, or ranged GETs on a stored object.
public protocol RandomAccessBytes: Sendable {
    var size: UInt64 { get }
    /// Reads up to `length` bytes at `offset`; fewer only at the end of the data.
    func read(offset: UInt64, length: Int) async throws -> [UInt8]
}

/// Inspects by reading only the regions the inspectors ask for: `arrow image inspect` and multipart completion.
public enum RandomAccessInspection {
    /// Rounds of requests before an inspector that keeps asking is refused (real formats need at most four).
    static let maximumRounds = 16

    public static func inspect(_ source: some RandomAccessBytes) async throws -> Findings {
        var captured = CapturedBytes()
        captured.totalSize = source.size
        var findings = Findings()
        findings.totalSize = source.size
        var undecided = Array(Inspectors.all.indices)
        for _ in 0..<maximumRounds where !undecided.isEmpty {
            var missing: Set<Region> = []
            for index in undecided {
                let inspector = Inspectors.all[index]
                switch inspector.inspect(captured) {
                case .notThisFormat: undecided.removeAll { $0 == index }
                case .matches(let finding):
                    undecided.removeAll { $0 == index }
                    findings.record(inspector.format, finding)
                case .needs(let regions):
                    missing.formUnion(regions.filter { captured[$0] == nil })
                }
            }
            for region in missing {
                captured.regions[region] = try await read(region, from: source)
            }
        }
        for index in undecided { findings.record(Inspectors.all[index].format, Inspectors.unreadable(Inspectors.all[index].format)) }
        return findings
    }

    private static func read(_ region: Region, from source: some RandomAccessBytes) async throws -> [UInt8] {
        switch region {
        case .at(let offset, let length):
            guard offset < source.size else { return [] }
            let available = Int(min(UInt64(min(length, Region.maximumLength)), source.size - offset))
            return try await source.read(offset: offset, length: available)
        case .tail(let length):
            let available = Int(min(UInt64(min(length, Region.maximumTailLength)), source.size))
            return try await source.read(offset: source.size - UInt64(available), length: available)
        }
    }
}
