import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes connections that hold a slot without making progress, which the idle timeout alone misses: a client that
/// trickles its request head a byte at a time (it is never idle), or one that sends a body slower than `minimumRate`
/// bytes per second, averaged over `window`. Sits in each connection's pipeline after the HTTP decoder.
///
/// - The request head must be complete within `headerTimeout` of the connection opening or of the previous response
///   ending (keep-alive).
/// - While a body is arriving, each `window` must bring at least `minimumRate × window` bytes. A client that has
///   finished sending and waits for the answer is not held to it.
final class SlowClientGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var headerTimeout: TimeAmount
        var minimumRate: Int
        var window: TimeAmount
    }

    private let limits: Limits
    private var headDeadline: Scheduled<Void>?
    private var rateCheck: Scheduled<Void>?
    private var bodyBytes = 0
    private var readingBody = false

    init(limits: Limits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { awaitHead(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        awaitHead(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stopTimers() }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            headDeadline?.cancel()
            headDeadline = nil
            readingBody = true
            bodyBytes = 0
            if limits.minimumRate > 0 { watchRate(context) }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            readingBody = false
            rateCheck?.cancel()
            rateCheck = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            context.write(data, promise: promise)
            // The next request on this keep-alive connection gets its own header deadline.
            if context.channel.isActive { awaitHead(context) }
            return
        }
        context.write(data, promise: promise)
    }

    private func awaitHead(_ context: ChannelHandlerContext) {
        guard headDeadline == nil, !readingBody else { return }
        headDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: limits.headerTimeout) {
            self.headDeadline = nil
            context.close(promise: nil)
        }
    }

    private func watchRate(_ context: ChannelHandlerContext, since previous: Int = 0) {
        rateCheck?.cancel()
        let needed = limits.minimumRate * Int(limits.window.nanoseconds / 1_000_000_000)
        rateCheck = context.eventLoop.assumeIsolated().scheduleTask(in: limits.window) {
            self.rateCheck = nil
            guard self.readingBody else { return }
            if self.bodyBytes - previous < needed {
                context.close(promise: nil)
            } else {
                self.watchRate(context, since: self.bodyBytes)
            }
        }
    }

    private func stopTimers() {
        headDeadline?.cancel()
        headDeadline = nil
        rateCheck?.cancel()
        rateCheck = nil
    }
}

/// What a connection may cost the server before it is closed.
public struct ConnectionLimits: Sendable, Equatable {
    /// Seconds a connection may send nothing: between requests (keep-alive) or in the middle of one.
    public var idleTimeout: Double = 60
    /// Seconds a request head may take to arrive in full, however steadily it trickles.
    public var headerTimeout: Double = 30
    /// Bytes per second a request body must average over each 30-second window (0 turns the check off).
    public var minimumBodyRate: Int = 1024
    /// Connections open at once; past it the server stops accepting until one closes.
    public var maxConnections: Int = 2048

    public init() {}

    var guardLimits: SlowClientGuard.Limits {
        SlowClientGuard.Limits(headerTimeout: .milliseconds(Int64(headerTimeout * 1000)), minimumRate: minimumBodyRate,
                               window: .seconds(min(30, max(1, Int64(idleTimeout / 2)))))
    }
}
