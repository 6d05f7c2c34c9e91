import ArrowCore
import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// Reads a `multipart/form-data` request body part by part, streaming each part's bytes: a 2 GiB file is never
/// held in memory. MultipartKit's parser does the byte-level work; this class turns its callbacks into pulls.
///
/// Used by one task at a time (like any iterator); `@unchecked Sendable` so a part's body can be handed to a store.
final class MultipartFormReader: @unchecked Sendable {
    struct Part: Sendable {
        var name: String
        var fileName: String?
        var contentType: String?
    }

    private enum Event {
        case header(String, String)
        case body(ByteBuffer)
        case end
    }

    /// Collects parser callbacks; separate from the reader so the parser's closures do not retain the reader.
    private final class Events {
        var queue: [Event] = []
        var head = 0
    }

    /// The size of the chunks a part's body is delivered in.
    static let chunkSize = 1 << 20

    private let parser: MultipartParser
    private let events = Events()
    private var body: RequestBody.AsyncIterator
    private var inPart = false
    private var bodyEnded = false

    init(_ request: Request) throws {
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = Self.boundary(contentType) else {
            throw ArrowError(.unsupportedMediaType, reason: "multipart_required", "Send multipart/form-data with a boundary")
        }
        parser = MultipartParser(boundary: boundary)
        let events = self.events
        parser.onHeader = { name, value in events.queue.append(.header(name, value)) }
        parser.onBody = { buffer in events.queue.append(.body(buffer)) }
        parser.onPartComplete = { events.queue.append(.end) }
        body = request.body.makeAsyncIterator()
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.count > 200 ? nil : value
            }
        }
        return nil
    }

    /// The next event without consuming it, reading and parsing more of the body when none is queued; nil at the end.
    private func peekEvent() async throws -> Event? {
        while events.head == events.queue.count {
            events.queue.removeAll(keepingCapacity: true)
            events.head = 0
            guard !bodyEnded, let buffer = try await body.next() else {
                bodyEnded = true
                return nil
            }
            do {
                try parser.execute(buffer)
            } catch {
                throw ArrowError(.invalidInput, reason: "invalid_multipart", "The multipart body is malformed")
            }
        }
        return events.queue[events.head]
    }

    private func nextEvent() async throws -> Event? {
        let event = try await peekEvent()
        if event != nil { events.head += 1 }
        return event
    }

    /// Moves to the next part (skipping what is left of the current one); nil after the last part.
    func nextPart() async throws -> Part? {
        while inPart { _ = try await nextChunk() }
        var headers: [String: String] = [:]
        while case .header(let name, let value) = try await peekEvent() {
            events.head += 1
            headers[name.lowercased()] = value
            guard headers.count <= 32 else { throw ArrowError(.invalidInput, reason: "invalid_multipart", "Too many part headers") }
        }
        guard !headers.isEmpty else {
            if let event = try await nextEvent(), case .body = event {
                throw ArrowError(.invalidInput, reason: "invalid_multipart", "A form part has no headers")
            }
            return nil
        }
        guard let disposition = headers["content-disposition"], let name = Self.parameter("name", in: disposition) else {
            throw ArrowError(.invalidInput, reason: "invalid_multipart", "A form part has no Content-Disposition name")
        }
        inPart = true
        return Part(name: name, fileName: Self.parameter("filename", in: disposition), contentType: headers["content-type"])
    }

    /// The next piece of the current part's body, at most about `chunkSize` bytes; nil at its end.
    ///
    /// The parser hands over a slice at every CR byte (every ~256 bytes of binary data), so slices are gathered
    /// here: everything downstream (inspection, hashing, storage writes) then works per MiB, not per slice.
    /// - Throws: `truncated_multipart` when the request ends inside the part (a dropped connection).
    func nextChunk() async throws -> ByteBuffer? {
        guard inPart else { return nil }
        var gathered: ByteBuffer?
        while true {
            switch try await nextEvent() {
            case .body(var buffer):
                if gathered == nil { gathered = ByteBufferAllocator().buffer(capacity: Self.chunkSize) }
                gathered!.writeBuffer(&buffer)
                if gathered!.readableBytes >= Self.chunkSize { return gathered }
            case .end:
                inPart = false
                return gathered
            case .header, nil:
                inPart = false
                throw ArrowError(.invalidInput, reason: "truncated_multipart", "The request ended in the middle of a form part")
            }
        }
    }

    /// The current part's body as text, for small fields.
    func text(limit: Int = 64 << 10) async throws -> String {
        var bytes: [UInt8] = []
        while let chunk = try await nextChunk() {
            bytes += chunk.readableBytesView
            guard bytes.count <= limit else {
                throw ArrowError(.payloadTooLarge, reason: "field_too_large", "A form field is larger than \(limit >> 10) KiB")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The current part's body as a stream of chunks.
    var partBody: BlobBody {
        BlobBody(PartChunks(reader: self), transform: { $0 })
    }

    /// `name="value"` from a Content-Disposition header.
    static func parameter(_ key: String, in header: String) -> String? {
        for parameter in header.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}

private struct PartChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let reader: MultipartFormReader

    struct AsyncIterator: AsyncIteratorProtocol {
        let reader: MultipartFormReader
        mutating func next() async throws -> [UInt8]? { try await reader.nextChunk().map { Array($0.readableBytesView) } }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader) }
}
