@testable import ArrowAPI
import Foundation
import Testing

/// The API's date format matches what `JSONEncoder`'s `.iso8601` strategy writes, to the byte.
@Suite struct UTCTimestampTests {
    static func foundation(_ date: Date) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let json = String(decoding: try encoder.encode([date]), as: UTF8.self)
        return String(json.dropFirst(2).dropLast(2))
    }

    @Test func matchesFoundationAcrossCenturiesLeapDaysAndFractions() throws {
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: 4_107_542_399.999), Date(timeIntervalSince1970: 1_705_314_600.5),
            Date(timeIntervalSince1970: -2_208_988_800), Date(timeIntervalSince1970: 253_402_300_799),  // 1900, 9999-12-31
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            dates.append(Date(timeIntervalSince1970: Double(Int64.random(in: -2_208_988_800...253_402_300_799, using: &generator)) + Double.random(in: 0..<1)))
        }
        for date in dates {
            #expect(UTCTimestamp.string(date) == (try Self.foundation(date)), "\(date.timeIntervalSince1970)")
        }
    }
}
