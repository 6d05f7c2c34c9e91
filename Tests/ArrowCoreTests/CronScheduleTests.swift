import ArrowCore
import Foundation
import Testing

/// The cron schedules of build templates: our own parser, tested against slots worked out by hand (UTC and a zone
/// with daylight saving time).
@Suite struct CronScheduleTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    static func text(_ date: Date?) -> String? { date.map { ISO8601DateFormatter().string(from: $0) } }

    @Test func nextSlots() throws {
        let hourly = try CronSchedule("0 * * * *")
        #expect(Self.text(hourly.next(after: Self.date("2026-12-01T10:30:00Z"))) == "2026-12-01T11:00:00Z")
        #expect(Self.text(hourly.next(after: Self.date("2026-12-01T11:00:00Z"))) == "2026-12-01T12:00:00Z", "strictly after")
        #expect(Self.text(hourly.next(after: Self.date("2026-12-01T10:59:59Z"))) == "2026-12-01T11:00:00Z")
        let weekdays = try CronSchedule("15 3 * * mon-fri")
        // 2026-12-04 is a Friday: the next slot after Friday's is Monday's.
        #expect(Self.text(weekdays.next(after: Self.date("2026-12-04T03:15:00Z"))) == "2026-12-07T03:15:00Z")
        let steps = try CronSchedule("*/20 9-10 * * *")
        #expect(Self.text(steps.next(after: Self.date("2026-12-01T10:40:00Z"))) == "2026-12-02T09:00:00Z")
        #expect(Self.text(try CronSchedule("@monthly").next(after: Self.date("2026-12-15T00:00:00Z"))) == "2027-01-01T00:00:00Z")
        #expect(Self.text(try CronSchedule("0 0 29 feb *").next(after: Self.date("2026-03-01T00:00:00Z"))) == "2028-02-29T00:00:00Z")
        #expect(try CronSchedule("0 0 30 2 *").next(after: Self.date("2026-01-01T00:00:00Z")) == nil, "a day that never comes")
        // Sunday as 0 and as 7.
        #expect(try CronSchedule("0 12 * * 7").next(after: Self.date("2026-12-01T00:00:00Z")) == (try CronSchedule("0 12 * * sun").next(after: Self.date("2026-12-01T00:00:00Z"))))
    }

    @Test func bothDayFieldsMatchEither() throws {
        // The 1st of the month or any Monday (Vixie cron's rule), from Tuesday 2026-12-01 00:00 on.
        let either = try CronSchedule("0 0 1 * mon")
        #expect(Self.text(either.next(after: Self.date("2026-12-01T00:00:00Z"))) == "2026-12-07T00:00:00Z")
        #expect(Self.text(either.next(after: Self.date("2026-12-28T00:00:00Z"))) == "2027-01-01T00:00:00Z")
    }

    @Test func aTimeZoneWithDaylightSavingTime() throws {
        let berlin = try CronSchedule("30 2 * * *", timeZone: "Europe/Berlin")
        // 2:30 does not exist in Berlin on 2026-03-29 (clocks go from 2:00 to 3:00): that day has no slot.
        #expect(Self.text(berlin.next(after: Self.date("2026-03-28T01:30:00Z"))) == "2026-03-30T00:30:00Z")
        // In winter 2:30 in Berlin is 1:30 UTC; in summer 0:30 UTC.
        #expect(Self.text(berlin.next(after: Self.date("2026-01-10T00:00:00Z"))) == "2026-01-10T01:30:00Z")
        #expect(Self.text(berlin.next(after: Self.date("2026-07-10T00:00:00Z"))) == "2026-07-10T00:30:00Z")
        // 2:30 happens twice on 2026-10-25: it fires once, at the first.
        let first = try #require(berlin.next(after: Self.date("2026-10-24T23:00:00Z")))
        #expect(Self.text(first) == "2026-10-25T00:30:00Z")
        #expect(Self.text(berlin.next(after: first)) == "2026-10-26T01:30:00Z")
    }

    @Test func aScheduleMissedForSeveralSlotsFiresOnlyItsLatest() throws {
        let hourly = try CronSchedule("0 * * * *")
        let due = Self.date("2026-12-01T11:00:00Z")
        #expect(Self.text(hourly.latest(due: due, upTo: Self.date("2026-12-01T14:20:00Z"))) == "2026-12-01T14:00:00Z")
        #expect(Self.text(hourly.latest(due: due, upTo: Self.date("2026-12-01T11:00:00Z"))) == "2026-12-01T11:00:00Z")
        #expect(Self.text(hourly.previous(atOrBefore: Self.date("2026-12-01T14:00:00Z"))) == "2026-12-01T14:00:00Z")
        // A month of an every-minute schedule missed: still the one latest slot, found at once.
        let everyMinute = try CronSchedule("* * * * *")
        let clock = ContinuousClock()
        let started = clock.now
        #expect(Self.text(everyMinute.latest(due: Self.date("2026-11-01T00:00:00Z"), upTo: Self.date("2026-12-01T10:07:31Z"))) == "2026-12-01T10:07:00Z")
        #expect(clock.now - started < .seconds(1))
    }

    @Test(arguments: [
        ("0 * * *", "five fields"), ("60 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day of month"), ("* * * 13 *", "month"),
        ("* * * * 8", "weekday"), ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"), ("a * * * *", "minute"), ("* * * foo *", "month"),
    ])
    func badSchedulesAreRefusedNamingTheField(_ expression: String, _ named: String) {
        do {
            _ = try CronSchedule(expression)
            Issue.record("\(expression) was accepted")
        } catch let error as ArrowError {
            #expect(error.reason == "invalid_schedule")
            #expect(error.message.contains(named), "\(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func anUnknownTimeZoneIsRefused() {
        #expect(throws: ArrowError.self) { try CronSchedule("@daily", timeZone: "Mars/Olympus") }
    }
}
