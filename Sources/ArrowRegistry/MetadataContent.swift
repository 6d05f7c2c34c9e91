import ArrowCore
import Foundation
import Yams

/// Content checks for metadata files: images by their magic bytes and structure, documents by parsing them.
/// The declared name or type is never trusted; what the bytes are decides.
enum MetadataContent {
    struct Verdict: Equatable {
        var kind: MetadataFile.Kind
        var contentType: String
    }

    static func check(_ bytes: [UInt8], fileName: String) throws -> Verdict {
        if let image = try imageType(bytes) { return Verdict(kind: .thumbnail, contentType: image) }
        let lower = fileName.lowercased()
        if lower.hasSuffix(".json") {
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes))
            guard parsed is [String: Any] || parsed is [Any] else {
                throw invalid("The JSON document does not parse to an object or a list")
            }
            return Verdict(kind: .document, contentType: "application/json")
        }
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw invalid("The YAML document is not UTF-8") }
            // Compose only: the node tree shares aliased subtrees, so an alias bomb cannot expand in memory here.
            let root: Node?
            do { root = try Yams.compose(yaml: text) } catch { throw invalid("The YAML document does not parse") }
            guard let root, root.mapping != nil || root.sequence != nil else {
                throw invalid("The YAML document must be a mapping or a list")
            }
            return Verdict(kind: .document, contentType: "application/yaml")
        }
        throw ArrowError(.unprocessable, reason: "unsupported_metadata_file",
                         "Metadata files are PNG, JPEG or WebP thumbnails, or .json / .yaml documents")
    }

    /// PNG (signature and a first IHDR chunk), JPEG (SOI marker, then a marker), WebP (RIFF size matching the file).
    static func imageType(_ bytes: [UInt8]) throws -> String? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            guard bytes.count >= 33, Array(bytes[12..<16]) == Array("IHDR".utf8) else { throw invalid("The PNG has no IHDR header") }
            let width = bytes[16..<20].reduce(0) { $0 << 8 | UInt32($1) }
            let height = bytes[20..<24].reduce(0) { $0 << 8 | UInt32($1) }
            guard (1...16384).contains(width), (1...16384).contains(height) else { throw invalid("The PNG's dimensions are out of range") }
            return "image/png"
        }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            guard bytes.count >= 4, bytes[3] >= 0xC0, hasEndOfImage(bytes) else { throw invalid("The JPEG is truncated") }
            return "image/jpeg"
        }
        if bytes.starts(with: Array("RIFF".utf8)), bytes.count >= 16, Array(bytes[8..<12]) == Array("WEBP".utf8) {
            let size = bytes[4..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard size + 8 == bytes.count, ["VP8 ", "VP8L", "VP8X"].contains(String(decoding: bytes[12..<16], as: UTF8.self)) else {
                throw invalid("The WebP's RIFF header does not match the file")
            }
            return "image/webp"
        }
        return nil
    }

    /// The JPEG end-of-image marker, allowing for padding some encoders add after it.
    static func hasEndOfImage(_ bytes: [UInt8]) -> Bool {
        let tail = Array(bytes.suffix(64))
        return tail.indices.dropLast().contains { tail[$0] == 0xFF && tail[$0 + 1] == 0xD9 }
    }

    static func invalid(_ message: String) -> ArrowError {
        ArrowError(.unprocessable, reason: "invalid_metadata_file", message)
    }
}
