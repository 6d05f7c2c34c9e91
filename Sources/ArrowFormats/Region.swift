/// A stretch of the image an inspector wants to see: `at` an absolute offset, or the last bytes of the file.
///
/// Inspectors ask for regions and later read exactly the regions they asked for, so the streaming and the
/// seeking drivers can both satisfy them: the first captures them as the bytes pass, the second reads them.
public enum Region: Hashable, Sendable {
    case at(offset: UInt64, length: Int)
    case tail(length: Int)

    /// The longest region an inspector may ask for; keeps inspection memory bounded whatever a header claims.
    public static let maximumLength = 1 << 20
    /// The longest tail; the streaming driver keeps this many trailing bytes.
    public static let maximumTailLength = 1536

    var length: Int {
        switch self {
        case .at(_, let length), .tail(let length): length
        }
    }
}

/// The regions captured so far. A region is present only when complete; a present region shorter than asked
/// means the file ended inside it.
public struct CapturedBytes: Sendable {
    var regions: [Region: [UInt8]] = [:]
    /// Known once the stream has ended (streaming) or from the start (seeking).
    public internal(set) var totalSize: UInt64?

    public subscript(region: Region) -> [UInt8]? { regions[region] }
}

/// One failed safety check: `check` is a stable machine-readable name, `message` says what was found.
public struct Violation: Hashable, Sendable, Codable {
    public let check: String
    public let message: String

    public init(check: String, message: String) {
        self.check = check
        self.message = message
    }
}

/// What an inspector concluded about its format once it has the bytes it needs.
public struct Finding: Sendable, Equatable {
    public var virtualSize: UInt64?
    public var violations: [Violation]
    /// A second format this one legitimately contains (a fixed VHD holds a raw disk, so its MBR is expected).
    public var contains: Set<DetectedFormat> = []

    public init(virtualSize: UInt64?, violations: [Violation] = [], contains: Set<DetectedFormat> = []) {
        self.virtualSize = virtualSize
        self.violations = violations
        self.contains = contains
    }
}

/// An inspector's answer for the bytes captured so far.
public enum Verdict: Sendable, Equatable {
    /// Not decided: these regions are still missing.
    case needs(Set<Region>)
    /// The file is not in this format.
    case notThisFormat
    /// The file is in this format.
    case matches(Finding)
}

/// Every format the inspectors can recognise, including those we refuse.
public enum DetectedFormat: String, Sendable, CaseIterable, Codable {
    case iso, qcow2, vmdk, vhd, vhdx, gpt, qed, vdi, luks, parallels, bochs, dmg, gzip, xz, zstd, bzip2
}

/// One format's inspector: a pure function from the captured bytes to a verdict.
///
/// It must ask for a region before reading it, and it must decide once `bytes.totalSize` is known and every
/// region it asked for is present, so the drivers always terminate.
public protocol FormatInspector: Sendable {
    var format: DetectedFormat { get }
    func inspect(_ bytes: CapturedBytes) -> Verdict
}

/// Thrown inside an inspector when a region is missing; turned into `.needs`.
struct NeedMore: Error {
    var regions: Set<Region>
}

/// Thrown inside an inspector when a magic number does not match; turned into `.notThisFormat`.
struct NotThisFormat: Error {}

extension FormatInspector {
    /// Runs an inspection body written with `try need(...)` and `throw NotThisFormat()`.
    func verdict(_ body: () throws -> Finding) -> Verdict {
        do {
            return .matches(try body())
        } catch let more as NeedMore {
            return .needs(more.regions)
        } catch {
            return .notThisFormat
        }
    }
}

/// Fetches a region inside an inspection body, throwing `NeedMore` when it is not captured yet.
func need(_ region: Region, _ bytes: CapturedBytes) throws -> [UInt8] {
    guard let data = bytes[region] else { throw NeedMore(regions: [region]) }
    return data
}
