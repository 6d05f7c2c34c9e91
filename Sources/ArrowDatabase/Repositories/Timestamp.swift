import Foundation

/// Dates are stored as Unix milliseconds in both dialects: exact, comparable, and free of time-zone handling.
enum Timestamp {
    static func now() -> Int64 { from(Date()) }
    static func from(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
