import Foundation

/// Dates as the API writes them: ISO 8601 in UTC to the second (`2024-01-15T10:30:00Z`), exactly what
/// `JSONEncoder.DateEncodingStrategy.iso8601` writes, without its formatter's cost on every response.
enum UTCTimestamp {
    static func string(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (dayNumber, second) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let (year, month, day) = civil(fromDays: dayNumber)
        var out = [UInt8]()
        out.reserveCapacity(20)
        func put(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        put(year, digits: 4); out.append(UInt8(ascii: "-"))
        put(month, digits: 2); out.append(UInt8(ascii: "-"))
        put(day, digits: 2); out.append(UInt8(ascii: "T"))
        put(second / 3600, digits: 2); out.append(UInt8(ascii: ":"))
        put(second / 60 % 60, digits: 2); out.append(UInt8(ascii: ":"))
        put(second % 60, digits: 2); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`), for years 0–9999.
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
