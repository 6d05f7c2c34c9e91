/// A PVE task id (pve-common `UPID.pm`): `UPID:node:pid:pstart:starttime:type:id:user:`. Its node is where the
/// task runs and so where it is polled: an upload has no proxyto and runs on the node the client is connected to,
/// whatever node its path names (polling elsewhere answers 400 "no such task").
public struct UPID: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let node: String
    public let type: String
    public let id: String

    public init?(_ text: String) {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 9, fields[0] == "UPID", fields[8].isEmpty, Self.isNode(fields[1]),
              Self.isHex(fields[2], 8...8), Self.isHex(fields[3], 8...9), Self.isHex(fields[4], 8...8),
              !fields[5].isEmpty, !fields[7].isEmpty,
              !(fields[5] + fields[6] + fields[7]).contains(where: { $0 == "/" || $0.isWhitespace }) else { return nil }
        self.text = text
        node = fields[1]
        type = fields[5]
        id = fields[6]
    }

    public var description: String { text }

    static func isHex(_ field: String, _ lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(field.count) && field.allSatisfy(\.isHexDigit)
    }

    static func isNode(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last else { return false }
        return first.isASCII && (first.isLetter || first.isNumber) && last.isASCII && (last.isLetter || last.isNumber)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
