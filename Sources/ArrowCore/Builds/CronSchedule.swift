import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) evaluated in a time zone: the slots a
/// build template's schedule fires at. No cron package is available to us, so this is ours, kept to the common
/// syntax: `*`, numbers, ranges `a-b`, lists `a,b`, steps `*/n` and `a-b/n`, month and weekday names (`jan`, `mon`),
/// weekday 7 as Sunday, and the `@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly` shorthands. As in Vixie cron, when
/// both day fields are restricted a day matches if either does.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    public let timeZone: TimeZone
    let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    let daysRestricted: Bool, weekdaysRestricted: Bool

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    /// - Throws: `unprocessable` (`invalid_schedule` / `invalid_time_zone`) naming the field that is wrong.
    public init(_ expression: String, timeZone identifier: String = "UTC") throws {
        let zone = try Self.timeZone(named: identifier)
        let shorthands = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        let fields = (shorthands[trimmed.lowercased()] ?? trimmed).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ArrowError(.unprocessable, reason: "invalid_schedule", "A schedule has five fields (minute hour day month weekday), not \(fields.count)")
        }
        self.expression = trimmed
        timeZone = zone
        minutes = try Self.parse(fields[0], "minute", 0...59, names: [:])
        hours = try Self.parse(fields[1], "hour", 0...23, names: [:])
        days = try Self.parse(fields[2], "day of month", 1...31, names: [:])
        months = try Self.parse(fields[3], "month", 1...12, names: Self.monthNames)
        weekdays = Set(try Self.parse(fields[4], "weekday", 0...7, names: Self.weekdayNames).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    /// - Throws: `unprocessable` (`invalid_time_zone`) for a name that is not an IANA time zone.
    public static func timeZone(named identifier: String) throws -> TimeZone {
        guard let zone = TimeZone(identifier: identifier) else {
            throw ArrowError(.unprocessable, reason: "invalid_time_zone", "Unknown time zone \(identifier) (use an IANA name such as Europe/Berlin)")
        }
        return zone
    }

    static let monthNames = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
    static let weekdayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    static func parse(_ field: String, _ name: String, _ bounds: ClosedRange<Int>, names: [String: Int]) throws -> Set<Int> {
        func value(_ text: Substring) throws -> Int {
            if let number = Int(text), bounds.contains(number) { return number }
            if let named = names[text.lowercased()] { return named }
            throw ArrowError(.unprocessable, reason: "invalid_schedule", "\(name): \(text) is not in \(bounds.lowerBound)–\(bounds.upperBound)")
        }
        var result = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count), !pieces[0].isEmpty else {
                throw ArrowError(.unprocessable, reason: "invalid_schedule", "\(name): cannot read \(part)")
            }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0, parsed <= bounds.upperBound else {
                    throw ArrowError(.unprocessable, reason: "invalid_schedule", "\(name): the step in \(part) must be 1–\(bounds.upperBound)")
                }
                step = parsed
            }
            var range = bounds
            if pieces[0] != "*" {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(ends.count) else { throw ArrowError(.unprocessable, reason: "invalid_schedule", "\(name): cannot read \(part)") }
                let low = try value(ends[0])
                let high = ends.count == 2 ? try value(ends[1]) : (pieces.count == 2 ? bounds.upperBound : low)
                guard low <= high else { throw ArrowError(.unprocessable, reason: "invalid_schedule", "\(name): \(part) runs backwards") }
                range = low...high
            }
            result.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return result
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    func dayMatches(day: Int, month: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }

    /// The first slot strictly after `date`; nil when none comes within five years (`0 0 30 2 *`).
    public func next(after date: Date) -> Date? {
        let start = date.addingTimeInterval(60 - date.timeIntervalSince1970.truncatingRemainder(dividingBy: 60))
        return search(from: start, forward: true)
    }

    /// The last slot at or before `date`; nil when none was within five years.
    public func previous(atOrBefore date: Date) -> Date? {
        search(from: date.addingTimeInterval(-date.timeIntervalSince1970.truncatingRemainder(dividingBy: 60)), forward: false)
    }

    /// The latest slot at or before `now` and not before `due` (a slot already known to be due): a schedule missed
    /// for a while fires once, for its most recent slot, not once per slot it missed.
    public func latest(due: Date, upTo now: Date) -> Date {
        max(due, previous(atOrBefore: now) ?? due)
    }

    /// Day by day from `bound` (a whole minute), the first matching wall-clock time on the bound's side of it.
    private func search(from bound: Date, forward: Bool) -> Date? {
        let calendar = self.calendar
        let wall = calendar.dateComponents([.hour, .minute], from: bound)
        let boundTime = wall.hour! * 60 + wall.minute!
        let times = hours.sorted().flatMap { hour in minutes.sorted().map { hour * 60 + $0 } }
        let ordered = forward ? times : times.reversed()
        var day = calendar.startOfDay(for: bound)
        for offset in 0..<(366 * 5) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if dayMatches(day: parts.day!, month: parts.month!, weekday: parts.weekday! - 1) {
                for time in ordered {
                    // On the bound's own day only the times on its side of it count.
                    if offset == 0, forward ? time < boundTime : time > boundTime { continue }
                    // A wall-clock time skipped by a DST change is not a slot; a repeated one is its first occurrence.
                    var wanted = DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: time / 60, minute: time % 60)
                    wanted.timeZone = timeZone
                    guard let slot = calendar.date(from: wanted),
                          calendar.dateComponents([.hour, .minute], from: slot) == DateComponents(hour: time / 60, minute: time % 60)
                    else { continue }
                    if forward ? slot >= bound : slot <= bound { return slot }
                }
            }
            guard let adjacent = calendar.date(byAdding: .day, value: forward ? 1 : -1, to: day) else { return nil }
            day = calendar.startOfDay(for: adjacent)
        }
        return nil
    }
}
