@testable import ArrowAPI
import ArrowCore
import Foundation
import MultipartKit
import NIOCore
import Testing

/// The hand-written form reader against MultipartKit's parser (the oracle) on random forms cut at random places,
/// plus the malformed bodies it must refuse without crashing.
@Suite struct MultipartFormReaderTests {
    struct ParsedPart: Equatable {
        var name: String
        var fileName: String?
        var contentType: String?
        var body: [UInt8]
    }

    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    }

    static let boundary = "xYz-boundary-42"

    /// Bytes that stress the delimiter search: near-delimiters, bare boundaries, CR/LF runs, random bytes.
    static func body(_ random: inout Generator) -> [UInt8] {
        var out: [UInt8] = []
        let length = random.int(0...(random.int(0...7) == 0 ? 300_000 : 2_000))
        let near = Array("\r\n--\(boundary)".utf8)
        while out.count < length {
            switch random.int(0...5) {
            // A delimiter cut short, then a byte that cannot complete it (a whole delimiter in a body is malformed).
            case 0: out += near.prefix(random.int(1...(near.count - 1))) + [0x51]
            case 1: out += Array("a--\(boundary)".utf8)  // the boundary without CRLF before it: plain data
            case 2: out += [UInt8](repeating: 0x0D, count: random.int(1...5)) + [0x0A]
            default: out += (0..<random.int(1...4096)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
        }
        return Array(out.prefix(length))
    }

    static func form(_ parts: [ParsedPart], preamble: String = "") -> [UInt8] {
        var out = Array(preamble.utf8)
        for (index, part) in parts.enumerated() {
            out += Array(((index == 0 && preamble.isEmpty) ? "" : "\r\n").utf8) + Array("--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(part.name)\""
            if let fileName = part.fileName { disposition += "; filename=\"\(fileName)\"" }
            out += Array((disposition + "\r\n").utf8)
            if let type = part.contentType { out += Array("Content-Type: \(type)\r\n".utf8) }
            out += Array("\r\n".utf8) + part.body
        }
        return out + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// Feeds `bytes` in pieces of random size.
    static func reader(_ bytes: [UInt8], random: inout Generator, maxPiece: Int = 70_000) throws -> MultipartFormReader {
        var pieces: [ByteBuffer] = []
        var offset = 0
        while offset < bytes.count {
            let size = min(random.int(1...maxPiece), bytes.count - offset)
            pieces.append(ByteBuffer(bytes: bytes[offset..<(offset + size)]))
            offset += size
        }
        var iterator = pieces.makeIterator()
        return try MultipartFormReader(contentType: "multipart/form-data; boundary=\(boundary)", next: { iterator.next() })
    }

    static func readAll(_ reader: MultipartFormReader) async throws -> [ParsedPart] {
        var parts: [ParsedPart] = []
        while let part = try await reader.nextPart() {
            var body: [UInt8] = []
            while let chunk = try await reader.nextChunk() {
                #expect(chunk.count <= MultipartFormReader.chunkSize && !chunk.isEmpty)
                body += chunk
            }
            parts.append(ParsedPart(name: part.name, fileName: part.fileName, contentType: part.contentType, body: body))
        }
        return parts
    }

    /// MultipartKit's view of the same bytes.
    static func oracle(_ bytes: [UInt8]) throws -> [ParsedPart] {
        final class Collected {
            var parts: [ParsedPart] = []
            var headers: [String: String] = [:]
            var body: [UInt8] = []
        }
        let collected = Collected()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collected.headers[name.lowercased()] = value }
        parser.onBody = { buffer in collected.body += buffer.readableBytesView }
        parser.onPartComplete = {
            let disposition = collected.headers["content-disposition"] ?? ""
            collected.parts.append(ParsedPart(
                name: MultipartFormReader.parameter("name", in: disposition) ?? "", fileName: MultipartFormReader.parameter("filename", in: disposition),
                contentType: collected.headers["content-type"], body: collected.body))
            collected.headers = [:]
            collected.body = []
        }
        try parser.execute(ByteBuffer(bytes: bytes))
        return collected.parts
    }

    @Test func agreesWithMultipartKitOnRandomFormsCutAnywhere() async throws {
        var random = Generator(state: 0x5EED)
        for round in 0..<80 {
            let parts = (0..<random.int(1...5)).map { index in
                ParsedPart(name: ["file", "name", "software", "sha256"][random.int(0...3)] + "\(index)",
                           fileName: random.int(0...1) == 0 ? nil : "disk-\(index).qcow2",
                           contentType: random.int(0...1) == 0 ? nil : "application/octet-stream", body: Self.body(&random))
            }
            let bytes = Self.form(parts)
            let expected = try Self.oracle(bytes)
            #expect(expected == parts, "the oracle disagrees with the generator in round \(round)")
            let maxPiece = [1, 7, 100, 70_000][random.int(0...3)]
            let got = try await Self.readAll(try Self.reader(bytes, random: &random, maxPiece: maxPiece == 1 && bytes.count > 20_000 ? 61 : maxPiece))
            #expect(got == expected, "round \(round), pieces up to \(maxPiece) bytes")
        }
    }

    @Test func preambleTransportPaddingAndSkippedParts() async throws {
        var random = Generator(state: 7)
        let parts = [ParsedPart(name: "a", body: Array("one".utf8)), ParsedPart(name: "b", fileName: "x.raw", body: Array("two".utf8))]
        let withPreamble = Self.form(parts, preamble: "This is a preamble.\r\n")
        #expect(try await Self.readAll(try Self.reader(withPreamble, random: &random, maxPiece: 5)) == parts)
        // Spaces after a boundary line are transport padding.
        let padded = Array(String(decoding: Self.form(parts), as: UTF8.self)
            .replacingOccurrences(of: "--\(Self.boundary)\r\n", with: "--\(Self.boundary)  \t\r\n").utf8)
        #expect(try await Self.readAll(try Self.reader(padded, random: &random)) == parts)
        // nextPart skips what is left of a part nobody read.
        let reader = try Self.reader(Self.form(parts), random: &random, maxPiece: 2)
        #expect(try await reader.nextPart()?.name == "a")
        #expect(try await reader.nextPart()?.fileName == "x.raw")
        #expect(try await reader.text() == "two")
        #expect(try await reader.nextPart() == nil)
    }

    @Test func malformedBodiesAreRefusedWithStableCodes() async throws {
        var random = Generator(state: 99)
        let good = Self.form([ParsedPart(name: "file", fileName: "d.raw", body: Self.body(&random))])
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(good.count - 30)), "truncated_multipart"),
            (Array("no boundary here at all".utf8), "invalid_multipart"),
            (Array("--\(Self.boundary)\r\nContent-Type: text/plain\r\n\r\nx\r\n--\(Self.boundary)--".utf8), "invalid_multipart"),
            (Array("--\(Self.boundary)\r\n".utf8) + [UInt8](repeating: 0x41, count: 20_000), "invalid_multipart"),
            (Array("--\(Self.boundary)xx\r\n".utf8), "invalid_multipart"),
            // The whole delimiter inside a body, not ending a boundary line.
            (Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--\(Self.boundary)Q\r\n".utf8), "invalid_multipart"),
        ]
        for (bytes, code) in cases {
            await #expect { _ = try await Self.readAll(try Self.reader(bytes, random: &random, maxPiece: 1000)) } throws: { error in
                (error as? ArrowError)?.publicCode == code
            }
        }
        // Cut anywhere, a form either parses to a prefix-consistent result or fails cleanly; it never crashes or hangs.
        for _ in 0..<300 {
            let cut = Array(good.prefix(random.int(0...good.count)))
            _ = try? await Self.readAll(try Self.reader(cut, random: &random, maxPiece: 500))
        }
        for _ in 0..<300 {
            let garbage = (0..<random.int(0...3000)).map { _ in UInt8(truncatingIfNeeded: random.next() % 7 == 0 ? 0x2D : random.next()) }
            _ = try? await Self.readAll(try Self.reader(garbage, random: &random, maxPiece: 300))
        }
    }
}

