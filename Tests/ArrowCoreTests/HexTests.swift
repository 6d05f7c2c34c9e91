import ArrowCore
import Foundation
import Testing

@Suite struct HexTests {
    @Test func everyByteIsTwoLowerCaseDigits() {
        let all = [UInt8](0...255)
        let expected = all.map { String(format: "%02x", $0) }.joined()
        #expect(Hex.string(all) == expected)
        #expect(Hex.string(Data(all)) == expected)
    }

    @Test func edges() {
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.string([0x00, 0x0f, 0xf0, 0xff]) == "000ff0ff")
        #expect((0...15).map { Hex.digit($0) } == Array("0123456789abcdef".utf8))
    }
}
