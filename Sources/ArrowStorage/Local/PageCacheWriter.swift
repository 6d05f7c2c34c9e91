import ArrowCore

/// Where a stream of chunks goes on its way into a file: ``DirectWriter`` where the file system takes direct
/// I/O, ``PageCacheWriter`` otherwise.
protocol ChunkWriter: AnyObject, Sendable {
    func append(_ chunk: [UInt8]) async throws
    /// Writes what is buffered and waits for every write; the caller still syncs the file.
    func finish() async throws
    /// Waits for any write in flight and releases what the writer holds; call it also after a failure.
    func close() async
}

extension DirectWriter: ChunkWriter {}

/// Writes chunks through the page cache from `offset` on, each one's disk write overlapping with receiving the
/// next. With `dropCache`, it starts writeback every 8 MiB and drops the pages a step later, once they are on
/// disk, so a multi-GiB upload cycles through a few MiB of cache instead of evicting everything else.
final class PageCacheWriter: ChunkWriter, @unchecked Sendable {
    private let file: POSIXFile
    private let dropCache: Bool
    private var offset: Int64
    private var flushed: Int64
    private var dropped: Int64
    private var inFlight: Task<Void, any Error>?
    static let writebackStep: Int64 = 8 << 20

    init(file: POSIXFile, offset: Int64, dropCache: Bool) {
        self.file = file
        self.dropCache = dropCache
        self.offset = offset
        self.flushed = offset
        self.dropped = offset
    }

    func append(_ chunk: [UInt8]) async throws {
        try await settle()
        let position = offset
        offset += Int64(chunk.count)
        var writeback: (start: Int64, length: Int64)?
        var drop: (start: Int64, length: Int64)?
        if dropCache, offset - flushed >= Self.writebackStep {
            writeback = (flushed, offset - flushed)
            // One step behind: the previous step's writeback has had a step's time to finish.
            if flushed - dropped >= Self.writebackStep {
                drop = (dropped, flushed - dropped)
                dropped = flushed
            }
            flushed = offset
        }
        let file = self.file
        inFlight = Task { [writeback, drop] in
            try await file.write(chunk, at: position)
            if let writeback { await file.startWriteback(offset: writeback.start, length: writeback.length) }
            if let drop { await file.finishWriteback(offset: drop.start, length: drop.length) }
        }
    }

    func finish() async throws { try await settle() }

    func close() async { _ = try? await settle() }

    private func settle() async throws {
        defer { inFlight = nil }
        try await inFlight?.value
    }
}
