/// A stream of byte chunks, type-erased so stores, the API and the builder can pass bodies along without
/// knowing where they come from (a request, a file, an HTTP response). Pulled one chunk at a time, so memory
/// stays bounded by the producer's chunk size.
public struct BlobBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    private let makeBox: @Sendable () -> ChunkSource

    /// Wraps any sequence of chunks; each `next()` of the result pulls one chunk from `base`. A `transform` that
    /// throws ends the stream with its error (an upload over its size limit, say).
    public init<S: AsyncSequence & Sendable>(_ base: S, transform: @escaping @Sendable (S.Element) throws -> [UInt8]) {
        makeBox = { IteratorSource(base.makeAsyncIterator(), transform: transform) }
    }

    /// A body holding `bytes`, delivered in chunks of at most `chunkSize`.
    public init(bytes: [UInt8], chunkSize: Int = 1 << 20) {
        makeBox = { ArraySource(bytes: bytes, chunkSize: chunkSize) }
    }

    public static var empty: BlobBody { BlobBody(bytes: []) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: ChunkSource
        public mutating func next() async throws -> [UInt8]? { try await source.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: makeBox()) }

    /// Collects the whole body (small bodies only).
    /// - Throws: ``StorageError`` `tooLarge` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in self {
            out += chunk
            if out.count > limit { throw StorageError(.tooLarge, "Body larger than \(limit) bytes") }
        }
        return out
    }
}

/// The iterator behind a ``BlobBody``: used by one task at a time, as iterators are.
class ChunkSource {
    func next() async throws -> [UInt8]? { nil }
}

private final class IteratorSource<I: AsyncIteratorProtocol>: ChunkSource {
    var iterator: I
    let transform: (I.Element) throws -> [UInt8]
    init(_ iterator: I, transform: @escaping (I.Element) throws -> [UInt8]) {
        self.iterator = iterator
        self.transform = transform
    }
    override func next() async throws -> [UInt8]? { try await iterator.next().map(transform) }
}

private final class ArraySource: ChunkSource {
    let bytes: [UInt8]
    let chunkSize: Int
    var offset = 0
    init(bytes: [UInt8], chunkSize: Int) {
        self.bytes = bytes
        self.chunkSize = max(chunkSize, 1)
    }
    override func next() async throws -> [UInt8]? {
        guard offset < bytes.count else { return nil }
        let end = min(offset + chunkSize, bytes.count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}
