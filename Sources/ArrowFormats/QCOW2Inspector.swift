/// QCOW2 (qemu docs/interop/qcow2.txt): big-endian header at 0, extensions up to the end of cluster 0.
struct QCOW2Inspector: FormatInspector {
    let format = DetectedFormat.qcow2
    static let magic: [UInt8] = [0x51, 0x46, 0x49, 0xFB]
    static let header = Region.at(offset: 0, length: 512)
    /// Incompatible feature bits we know and accept: dirty, corrupt (refused separately), external data file
    /// (refused separately) and compression type. Extended L2 (bit 4) and above are refused as unknown, as oslo does.
    static let knownIncompatibleFeatures: UInt64 = 0x0F
    static let externalDataFileExtension: UInt32 = 0x4441_5441

    func inspect(_ bytes: CapturedBytes) -> Verdict {
        verdict {
            let header = try need(Self.header, bytes)
            guard header.has(Self.magic, at: 0) else { throw NotThisFormat() }
            guard let version = header.bigEndian(UInt32.self, at: 4),
                  let backingOffset = header.bigEndian(UInt64.self, at: 8),
                  let clusterBits = header.bigEndian(UInt32.self, at: 20),
                  let size = header.bigEndian(UInt64.self, at: 24),
                  let cryptMethod = header.bigEndian(UInt32.self, at: 32)
            else {
                return Finding(virtualSize: nil, violations: [.truncated("QCOW2 header")])
            }
            var violations: [Violation] = []
            guard version == 2 || version == 3 else {
                return Finding(virtualSize: size, violations: [
                    Violation(check: "unsupported_version", message: "QCOW2 version \(version) is not supported (only 2 and 3)")
                ])
            }
            if !(9...21).contains(clusterBits) {
                violations.append(.invalidHeader("QCOW2 cluster_bits \(clusterBits) is outside 9...21"))
            }
            if backingOffset != 0 {
                violations.append(Violation(check: "backing_file", message: "QCOW2 image has a backing file"))
            }
            if cryptMethod != 0 {
                violations.append(Violation(check: "encrypted", message: "QCOW2 image is encrypted (crypt_method \(cryptMethod))"))
            }
            var headerLength = 72
            if version == 3 {
                guard let incompatible = header.bigEndian(UInt64.self, at: 72),
                      let length = header.bigEndian(UInt32.self, at: 100)
                else { return Finding(virtualSize: size, violations: violations + [.truncated("QCOW2 v3 header")]) }
                headerLength = Int(length)
                if incompatible & 0x04 != 0 {
                    violations.append(Violation(check: "data_file", message: "QCOW2 image uses an external data file"))
                }
                if incompatible & 0x02 != 0 {
                    violations.append(Violation(check: "corrupt", message: "QCOW2 image is marked corrupt"))
                }
                if incompatible & ~Self.knownIncompatibleFeatures != 0 {
                    let unknown = String(incompatible & ~Self.knownIncompatibleFeatures, radix: 16)
                    violations.append(Violation(check: "unknown_features", message: "QCOW2 image uses unknown incompatible features 0x\(unknown)"))
                }
                if headerLength < 104 || headerLength % 8 != 0 {
                    violations.append(.invalidHeader("QCOW2 header_length \(headerLength) is invalid"))
                    headerLength = 104
                }
            }
            if (9...21).contains(clusterBits) {
                let extensionViolations = try extensionViolations(bytes, from: headerLength, clusterSize: 1 << clusterBits)
                violations += extensionViolations.filter { found in !violations.contains { $0.check == found.check } }
            }
            return Finding(virtualSize: size, violations: violations)
        }
    }

    /// Walks the header extensions in cluster 0; an external data file named there is refused even without the
    /// feature bit, and an extension running past cluster 0 is malformed.
    private func extensionViolations(_ bytes: CapturedBytes, from start: Int, clusterSize: Int) throws -> [Violation] {
        let area = Region.at(offset: 0, length: min(clusterSize, 65536))
        let cluster = try need(area, bytes)
        var offset = start
        var seen = 0
        while offset + 8 <= cluster.count, seen < 1024 {
            guard let type = cluster.bigEndian(UInt32.self, at: offset),
                  let length = cluster.bigEndian(UInt32.self, at: offset + 4) else { break }
            if type == 0 { return [] }
            if type == Self.externalDataFileExtension {
                return [Violation(check: "data_file", message: "QCOW2 header names an external data file")]
            }
            let next = offset + 8 + (Int(length) + 7) / 8 * 8
            guard next <= cluster.count else {
                if cluster.count < min(clusterSize, 65536) { return [.truncated("QCOW2 header extensions")] }
                return [.invalidHeader("QCOW2 header extension 0x\(String(type, radix: 16)) runs past the first cluster")]
            }
            offset = next
            seen += 1
        }
        return cluster.count < min(clusterSize, 65536) ? [.truncated("QCOW2 header extensions")] : []
    }
}

extension Violation {
    static func truncated(_ what: String) -> Violation {
        Violation(check: "truncated", message: "\(what) is truncated")
    }

    static func invalidHeader(_ message: String) -> Violation {
        Violation(check: "invalid_header", message: message)
    }
}
