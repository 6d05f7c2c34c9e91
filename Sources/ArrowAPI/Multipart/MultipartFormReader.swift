import ArrowCore
import Foundation
import Hummingbird
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a `multipart/form-data` body (RFC 7578 / RFC 2046 §5.1) part by part, streaming each part's bytes: a 2 GiB
/// file is never held in memory.
///
/// Hand-written rather than MultipartKit's parser, which hands over a slice at every CR byte and scans byte by byte;
/// on a 2-core machine that capped uploads near 100 MiB/s. Here the delimiter is found with `memchr` and a part's
/// bytes are copied once, straight into the 1 MiB chunks the store writes. `MultipartFormReaderTests` checks it
/// against MultipartKit on random forms cut at random places.
///
/// Used by one task at a time (like any iterator); `@unchecked Sendable` so a part's body can be handed to a store.
final class MultipartFormReader: @unchecked Sendable {
    struct Part: Sendable, Equatable {
        var name: String
        var fileName: String?
        var contentType: String?
    }

    private enum State { case preamble, headers, body, done }

    /// The size of the chunks a part's body is delivered in.
    static let chunkSize = 1 << 20
    /// Bounds on what is buffered outside a part's body: the preamble and one part's header block.
    static let maximumPreamble = 16 << 10
    static let maximumHeaderBlock = 16 << 10

    /// `CRLF--boundary`: what ends a part's body.
    private let delimiter: [UInt8]
    private var input = ByteBuffer()
    private var state = State.preamble
    private let source: () async throws -> ByteBuffer?
    private var sourceEnded = false

    convenience init(_ request: Request) throws {
        var iterator = request.body.makeAsyncIterator()
        try self.init(contentType: request.headers[.contentType], next: { try await iterator.next() })
    }

    /// - Parameter next: the body's buffers in order, nil at the end.
    init(contentType: String?, next: @escaping () async throws -> ByteBuffer?) throws {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"), let boundary = Self.boundary(contentType) else {
            throw ArrowError(.unsupportedMediaType, reason: "multipart_required", "Send multipart/form-data with a boundary")
        }
        delimiter = Array("\r\n--\(boundary)".utf8)
        source = next
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.utf8.count > 70 ? nil : value
            }
        }
        return nil
    }

    // MARK: - Parts

    /// Moves to the next part (skipping what is left of the current one); nil after the last part.
    func nextPart() async throws -> Part? {
        while state == .body { _ = try await nextChunk() }
        if state == .preamble { try await skipPreamble() }
        guard state == .headers else { return nil }
        let headers = try await readHeaderBlock()
        guard let disposition = headers["content-disposition"], let name = Self.parameter("name", in: disposition) else {
            throw malformed("A form part has no Content-Disposition name")
        }
        state = .body
        return Part(name: name, fileName: Self.parameter("filename", in: disposition), contentType: headers["content-type"])
    }

    /// The next piece of the current part's body, at most `chunkSize` bytes; nil at its end.
    /// - Throws: `truncated_multipart` when the request ends inside the part (a dropped connection).
    func nextChunk() async throws -> [UInt8]? {
        guard state == .body else { return nil }
        var out: [UInt8] = []
        while out.count < Self.chunkSize {
            if let end = find(delimiter) {
                take(end, into: &out)
                input.moveReaderIndex(forwardBy: delimiter.count)
                try await afterDelimiter()
                return out.isEmpty ? nil : out
            }
            // Everything but a tail that could be the start of a delimiter is body.
            let safe = input.readableBytes - (delimiter.count - 1)
            if safe > 0 { take(min(safe, Self.chunkSize - out.count), into: &out) }
            if out.count >= Self.chunkSize { break }
            guard try await readMore() else {
                state = .done
                throw ArrowError(.invalidInput, reason: "truncated_multipart", "The request ended in the middle of a form part")
            }
        }
        return out
    }

    /// The current part's body as text, for small fields.
    func text(limit: Int = 64 << 10) async throws -> String {
        var bytes: [UInt8] = []
        while let chunk = try await nextChunk() {
            bytes += chunk
            guard bytes.count <= limit else {
                throw ArrowError(.payloadTooLarge, reason: "field_too_large", "A form field is larger than \(limit >> 10) KiB")
            }
        }
        // Refused rather than stored with replacement characters (a JSON body with the same bytes is refused too).
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ArrowError(.invalidInput, reason: "invalid_form", "A form field is not UTF-8 text")
        }
        return text
    }

    /// The current part's body as a stream of chunks.
    var partBody: BlobBody {
        BlobBody(PartChunks(reader: self), transform: { $0 })
    }

    // MARK: - Framing

    /// Skips to the first boundary line. The body may start with it (no CRLF before the first delimiter).
    private func skipPreamble() async throws {
        let first = Array(delimiter.dropFirst(2))
        while true {
            if input.readableBytes >= first.count, input.readableBytesView.starts(with: first) {
                input.moveReaderIndex(forwardBy: first.count)
                return try await afterDelimiter()
            }
            if let end = find(delimiter) {
                input.moveReaderIndex(forwardBy: end + delimiter.count)
                return try await afterDelimiter()
            }
            guard input.readableBytes <= Self.maximumPreamble else { throw malformed("No boundary where the form should start") }
            guard try await readMore() else { throw malformed("The body has no boundary line") }
        }
    }

    /// After a delimiter: `--` ends the form, otherwise (optional transport padding) CRLF starts the next part.
    private func afterDelimiter() async throws {
        while input.readableBytes < 2 {
            guard try await readMore() else { throw malformed("The body ends right after a boundary") }
        }
        if input.readableBytesView.starts(with: [0x2D, 0x2D]) {
            state = .done
            return
        }
        while true {
            let view = input.readableBytesView
            if let index = view.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) {
                let offset = index - view.startIndex
                while input.readableBytes < offset + 2 {
                    guard try await readMore() else { throw malformed("The body ends right after a boundary") }
                }
                guard input.getBytes(at: input.readerIndex + offset, length: 2) == [0x0D, 0x0A] else {
                    throw malformed("A boundary line does not end with CRLF")
                }
                input.moveReaderIndex(forwardBy: offset + 2)
                state = .headers
                return
            }
            guard input.readableBytes <= 1024, try await readMore() else { throw malformed("A boundary line does not end with CRLF") }
        }
    }

    /// A part's header lines, up to the empty line; names lower-cased.
    private func readHeaderBlock() async throws -> [String: String] {
        while true {
            if input.readableBytesView.starts(with: [0x0D, 0x0A]) {
                throw malformed("A form part has no headers")
            }
            if let end = find([0x0D, 0x0A, 0x0D, 0x0A]) {
                let block = input.readString(length: end) ?? ""
                input.moveReaderIndex(forwardBy: 4)
                var headers: [String: String] = [:]
                for line in block.split(separator: "\r\n", omittingEmptySubsequences: true) {
                    guard let colon = line.firstIndex(of: ":") else { throw malformed("A part header has no colon") }
                    headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    guard headers.count <= 32 else { throw malformed("Too many part headers") }
                }
                return headers
            }
            guard input.readableBytes <= Self.maximumHeaderBlock else { throw malformed("A part's headers are too long") }
            guard try await readMore() else { throw malformed("The request ended in a part's headers") }
        }
    }

    // MARK: - Buffer

    /// Appends the next buffer of the body; false at its end.
    private func readMore() async throws -> Bool {
        guard !sourceEnded, var next = try await source() else {
            sourceEnded = true
            return false
        }
        if input.readerIndex > 0 && input.readerIndex >= input.writerIndex / 2 { input.discardReadBytes() }
        if input.readableBytes == 0 && input.readerIndex == 0 && input.capacity < next.readableBytes {
            input = next
        } else {
            input.writeBuffer(&next)
        }
        return true
    }

    /// The offset of `needle` in the unread input: `memchr` to each candidate first byte, then `memcmp`
    /// (glibc's `memmem` is not visible to Swift).
    private func find(_ needle: [UInt8]) -> Int? {
        input.withUnsafeReadableBytes { haystack -> Int? in
            guard haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
            return needle.withUnsafeBytes { pattern -> Int? in
                let first = Int32(needle[0])
                let last = haystack.count - needle.count
                var offset = 0
                while offset <= last {
                    guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + position, pattern.baseAddress!, needle.count) == 0 { return position }
                    offset = position + 1
                }
                return nil
            }
        }
    }

    /// Moves `count` unread bytes into `out`: the one copy a part's bytes make.
    private func take(_ count: Int, into out: inout [UInt8]) {
        guard count > 0 else { return }
        if out.isEmpty { out.reserveCapacity(Self.chunkSize) }
        input.withUnsafeReadableBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        input.moveReaderIndex(forwardBy: count)
    }

    private func malformed(_ message: String) -> ArrowError {
        state = .done
        return ArrowError(.invalidInput, reason: "invalid_multipart", "The multipart body is malformed: \(message)")
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
        mutating func next() async throws -> [UInt8]? { try await reader.nextChunk() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader) }
}
