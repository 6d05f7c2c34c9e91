import Logging

/// `StreamLogHandler`'s output, with metadata rendered when a line is written rather than each time a key is set.
/// The server sets request metadata on every request and writes a line for few of them; `StreamLogHandler`
/// re-renders all of its metadata on every set, which cost a few percent of the API's throughput.
///
/// The stream handler sits in a shared, immutable box, so this handler is three words and fits in a `Logger`'s
/// existential inline: setting a metadata key (three times per request) copies the handler without allocating a
/// box for it and retaining every field of `StreamLogHandler`.
struct LazyMetadataLogHandler: LogHandler {
    private final class Base: Sendable {
        let handler: StreamLogHandler
        init(_ handler: StreamLogHandler) { self.handler = handler }
    }

    private var base: Base
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(_ base: StreamLogHandler) {
        self.base = Base(base)
        logLevel = base.logLevel
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.handler.metadataProvider }
        set {
            var handler = base.handler
            handler.metadataProvider = newValue
            base = Base(handler)
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        base.handler.log(event: event)
    }
}
