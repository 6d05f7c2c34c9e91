/// Inspects an image as it streams past, in order, in bounded memory: the upload path.
///
/// Feed every chunk in order, then call `finish()`. Memory is bounded by the regions inspectors ask for
/// (each at most `Region.maximumLength`), a copy of the first 64 KiB and the last `Region.maximumTailLength` bytes.
public struct StreamingInspection: Sendable {
    static let headCacheLength = 65536

    private var inspectors: [any FormatInspector]
    private var undecided: Set<Int>
    private var captured = CapturedBytes()
    private var pending: [Region: [UInt8]] = [:]
    private var tailRequests: Set<Region> = []
    private var lost: Set<Int> = []
    private var findings = Findings()
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    private var position: UInt64 = 0

    public init() {
        inspectors = Inspectors.all
        undecided = Set(inspectors.indices)
        evaluate(currentChunk: nil)
    }

    /// Bytes held for inspection right now; bounded whatever the input (the fuzz test checks it).
    var retainedByteCount: Int {
        head.count + tail.count + pending.values.reduce(0) { $0 + $1.count } + captured.regions.values.reduce(0) { $0 + $1.count }
    }

    /// The number of bytes fed so far.
    public var bytesSeen: UInt64 { position }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        guard !chunk.isEmpty else { return }
        let start = position, end = position + UInt64(chunk.count)
        if start < UInt64(Self.headCacheLength) {
            head.append(contentsOf: chunk[0..<min(chunk.count, Self.headCacheLength - Int(start))])
        }
        var completed = false
        for region in Array(pending.keys) {
            guard case .at(let offset, let length) = region else { continue }
            let regionEnd = offset + UInt64(length)
            guard offset < end, regionEnd > start else { continue }
            let from = Int(max(offset, start) - start), to = Int(min(regionEnd, end) - start)
            // Taken out of the dictionary first so appending does not copy the whole buffer.
            var buffer = pending.removeValue(forKey: region) ?? []
            buffer.append(contentsOf: chunk[from..<to])
            if buffer.count == length {
                captured.regions[region] = buffer
                completed = true
            } else {
                pending[region] = buffer
            }
        }
        position = end
        if completed { evaluate(currentChunk: (start, chunk)) }
        if chunk.count >= Region.maximumTailLength {
            tail = Array(chunk[(chunk.count - Region.maximumTailLength)...])
        } else {
            tail.append(contentsOf: chunk)
            if tail.count > Region.maximumTailLength { tail.removeFirst(tail.count - Region.maximumTailLength) }
        }
    }

    /// Ends the stream and returns what every inspector found.
    public mutating func finish() -> Findings {
        captured.totalSize = position
        for (region, buffer) in pending { captured.regions[region] = buffer }
        pending = [:]
        fillTails()
        // Once finished, every new request is answered on the spot, so one evaluation settles every inspector.
        evaluate(currentChunk: nil)
        for index in undecided { findings.record(inspectors[index].format, Inspectors.unreadable(inspectors[index].format)) }
        undecided = []
        findings.totalSize = position
        return findings
    }

    private mutating func fillTails() {
        for region in tailRequests {
            captured.regions[region] = Array(tail.suffix(region.length))
        }
        tailRequests = []
    }

    /// Re-runs undecided inspectors until none makes progress; new requests are satisfied from the head copy or
    /// the chunk at hand when the stream has already passed them, and an inspector whose bytes are gone is refused.
    private mutating func evaluate(currentChunk: (start: UInt64, bytes: UnsafeRawBufferPointer)?) {
        var progress = true
        while progress {
            progress = false
            for index in undecided.sorted() {
                switch inspectors[index].inspect(captured) {
                case .notThisFormat:
                    undecided.remove(index)
                case .matches(let finding):
                    undecided.remove(index)
                    findings.record(inspectors[index].format, finding)
                case .needs(let regions):
                    for region in regions where captured[region] == nil && pending[region] == nil && !tailRequests.contains(region) {
                        switch request(region, currentChunk: currentChunk) {
                        case .completed: progress = true
                        case .pending: continue
                        case .lost:
                            undecided.remove(index)
                            findings.record(inspectors[index].format, Inspectors.unreadable(inspectors[index].format))
                        }
                        if !undecided.contains(index) { break }
                    }
                }
            }
        }
    }

    private enum RequestOutcome { case completed, pending, lost }

    private mutating func request(_ region: Region, currentChunk: (start: UInt64, bytes: UnsafeRawBufferPointer)?) -> RequestOutcome {
        let finished = captured.totalSize != nil
        switch region {
        case .tail:
            tailRequests.insert(region)
            if finished { fillTails(); return .completed }
            return .pending
        case .at(let offset, let length):
            guard length <= Region.maximumLength else { return .lost }
            let (end, overflow) = offset.addingReportingOverflow(UInt64(length))
            if overflow {
                // No stream reaches that far: the region is past the end of any file.
                captured.regions[region] = []
                return .completed
            }
            var buffer: [UInt8] = []
            var cursor = offset
            if cursor < UInt64(head.count) {
                let to = min(end, UInt64(head.count))
                buffer.append(contentsOf: head[Int(cursor)..<Int(to)])
                cursor = to
            }
            if let (start, bytes) = currentChunk, cursor >= start, cursor < start + UInt64(bytes.count), cursor < end {
                let to = min(end, start + UInt64(bytes.count))
                buffer.append(contentsOf: bytes[Int(cursor - start)..<Int(to - start)])
                cursor = to
            }
            if cursor == end || (finished && cursor >= position) {
                captured.regions[region] = buffer
                return .completed
            }
            guard cursor >= position else { return .lost }
            pending[region] = buffer
            return .pending
        }
    }
}
