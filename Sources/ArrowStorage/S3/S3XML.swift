import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads the few S3 XML responses we need: the text of elements, grouped by a repeating record element.
final class S3XML: NSObject, XMLParserDelegate {
    private let record: String?
    private(set) var values: [String: String] = [:]
    private(set) var records: [[String: String]] = []
    private var current: [String: String]?
    private var text = ""

    private init(record: String?) {
        self.record = record
    }

    /// Top-level element texts (last wins) and, if `record` is given, one dictionary per `record` element.
    static func parse(_ data: [UInt8], record: String? = nil) -> (values: [String: String], records: [[String: String]]) {
        let reader = S3XML(record: record)
        let parser = XMLParser(data: Data(data))
        parser.delegate = reader
        _ = parser.parse()
        return (reader.values, reader.records)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == record { current = [:] }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == record, let done = current {
            records.append(done)
            current = nil
        } else if current != nil {
            current?[name] = text
        } else {
            values[name] = text
        }
        text = ""
    }
}

enum XMLText {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
