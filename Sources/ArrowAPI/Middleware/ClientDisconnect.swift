import Foundation
import NIOCore
import NIOHTTP1

/// Errors that mean the client went away mid-request (closed the connection while sending a body, or before the
/// answer was written). They are the client's doing, not the server's: answered (if anyone is listening) and counted
/// as 499 `client_disconnected`, logged at debug, never as a 500 or an error in the log.
enum ClientDisconnect {
    static func matches(_ error: any Error) -> Bool {
        if let parser = error as? HTTPParserError, parser == .invalidEOFState { return true }
        if let channel = error as? ChannelError {
            switch channel {
            case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed: return true
            default: return false
            }
        }
        if let io = error as? IOError { return [ECONNRESET, EPIPE, ECONNABORTED].contains(io.errnoCode) }
        return false
    }
}
