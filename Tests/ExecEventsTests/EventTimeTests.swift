import Testing

@testable import ExecEvents

@Suite("Event time")
struct EventTimeTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_795_931_722_174, "2026-11-29T05:55:22.174Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),  // leap day of a century leap year
        (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),  // 2100 is not a leap year
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsRFC3339WithMilliseconds(millis: Int64, text: String) {
        #expect(EventTime(millisecondsSinceEpoch: millis).rfc3339 == text)
        #expect(EventTime(rfc3339: text) == EventTime(millisecondsSinceEpoch: millis))
    }

    @Test func formatsTimesBeforeTheEpochButDoesNotReadThem() {
        #expect(EventTime(millisecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(EventTime(rfc3339: "1969-12-31T23:59:59.999Z") == nil)
        #expect(EventTime(rfc3339: "0000-01-01T00:00:00Z") == nil)
        #expect(EventTime(rfc3339: "1970-01-01T00:59:59+01:00") == nil)
    }

    @Test func checkedInitializersRefuseWhatDoesNotFit() {
        #expect(EventTime(acceptedSeconds: Int64.max) == nil)
        #expect(EventTime(acceptedSeconds: Int64.min) == nil)
        #expect(EventTime(acceptedSeconds: 0, milliseconds: Int64.max) == nil)
        #expect(EventTime(acceptedSeconds: 253_402_300_800) == nil)
        #expect(EventTime(acceptedSeconds: 253_402_300_799, milliseconds: 999)?.rfc3339 == "9999-12-31T23:59:59.999Z")
        #expect(EventTime(acceptedEpochSeconds: .nan) == nil)
        #expect(EventTime(acceptedEpochSeconds: .infinity) == nil)
        #expect(EventTime(acceptedEpochSeconds: 1e300) == nil)
        #expect(EventTime(acceptedEpochSeconds: -0.001) == nil)
        #expect(EventTime(acceptedEpochSeconds: 1_795_860_000.25)?.millisecondsSinceEpoch == 1_795_860_000_250)
        #expect(EventTime(acceptedMilliseconds: -1) == nil)
    }

    @Test func formatAgreesWithTheCalendarForEveryDayOfFourCenturies() {
        // Walk day by day and check the fields against a simple calendar count.
        var year: Int64 = 1970
        var month: Int64 = 1
        var day: Int64 = 1
        let lengths: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        for days in Int64(0)..<(146_097) {
            let (y, m, d) = EventTime.civilDate(daysSinceEpoch: days)
            #expect(y == year && m == month && d == day)
            if y != year || m != month || d != day { return }
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            let length = month == 2 && leap ? 29 : lengths[Int(month - 1)]
            day += 1
            if day > length {
                day = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
            #expect(EventTime.daysSinceEpoch(year: y, month: m, day: d) == days)
        }
    }

    @Test func parsesOffsetsFractionsAndLowerCase() {
        let base = EventTime(rfc3339: "2026-11-28T10:00:00Z")
        #expect(base == EventTime(seconds: 1_795_860_000))
        #expect(EventTime(rfc3339: "2026-11-28T12:00:00+02:00") == base)
        #expect(EventTime(rfc3339: "2026-11-28T05:30:00-04:30") == base)
        #expect(EventTime(rfc3339: "2026-11-28t10:00:00z") == base)
        #expect(EventTime(rfc3339: "2026-11-28 10:00:00Z") == base)
        #expect(EventTime(rfc3339: "2026-11-28T10:00:00.5Z")?.millisecondsSinceEpoch == 1_795_860_000_500)
        #expect(EventTime(rfc3339: "2026-11-28T10:00:00.123456789Z")?.millisecondsSinceEpoch == 1_795_860_000_123)
    }

    @Test(arguments: [
        "", "2026-11-28", "2026-11-28T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-28T24:00:00Z", "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00+0200", "x026-11-28T10:00:00Z",
        "2026-11-28T10:00:00Zjunk",
    ])
    func rejectsInvalidTimes(text: String) {
        #expect(EventTime(rfc3339: text) == nil)
    }
}
