import ArrowCore
@testable import ArrowRegistry
import Testing

@Suite struct MetadataContentTests {
    /// Nine levels of ten aliases: 10⁹ nodes if expanded. Composing keeps the aliased subtrees shared.
    @Test func aYAMLAliasBombIsCheckedWithoutExpanding() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        let verdict = try MetadataContent.check(Array(yaml.utf8), fileName: "bomb.yaml")
        #expect(verdict == .init(kind: .document, contentType: "application/yaml"))
    }

    @Test func theDeclaredNameDoesNotMakeBytesAnImage() throws {
        #expect(throws: (any Error).self) { try MetadataContent.check(Array("not a png at all".utf8), fileName: "x.png") }
        // PNG bytes are a thumbnail whatever they are called.
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 9, 0, 0, 0, 9]
            + [UInt8](repeating: 0, count: 16)
        #expect(try MetadataContent.check(png, fileName: "x.json").contentType == "image/png")
    }
}
