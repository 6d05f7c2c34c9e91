import Logging

/// `StreamLogHandler`'s output, with metadata rendered when a line is written rather than each time a key is set.
/// The server sets request metadata on every request and writes a line for few of them; `StreamLogHandler`
/// re-renders all of its metadata on every set, which cost a few percent of the API's throughput.
struct LazyMetadataLogHandler: LogHandler {
    private var base: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(_ base: StreamLogHandler) { self.base = base }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        let merged = explicit.map { metadata.merging($0) { $1 } } ?? metadata
        base.log(level: level, message: message, metadata: merged, source: source, file: file, function: function, line: line)
    }
}
