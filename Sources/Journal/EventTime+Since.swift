import ExecEvents

/// A `--since` value that is neither an age nor an RFC 3339 time.
public struct SinceParseError: Error, Equatable, CustomStringConvertible {
    /// The text as given.
    public var value: String

    public init(value: String) {
        self.value = value
    }

    public var description: String {
        "invalid time \"\(value)\": expected an age such as 30s, 15m, 1h or 2d, "
            + "or an RFC 3339 time such as 2026-11-28T10:00:00Z, not before 1970"
    }
}

extension EventTime {
    /// The start of a `--since` range: an age back from `now` (digits then `s`, `m`, `h` or `d`:
    /// `30s`, `15m`, `1h`, `2d`) or an RFC 3339 time (`2026-11-28T10:00:00Z`).
    public init(since text: String, now: EventTime) throws(SinceParseError) {
        if let age = Self.ageMilliseconds(text) {
            // `now` is not negative and `age` not above Int64.max: the difference cannot overflow.
            guard let time = EventTime(acceptedMilliseconds: now.millisecondsSinceEpoch - age) else {
                throw SinceParseError(value: text)
            }
            self = time
        } else if let time = EventTime(rfc3339: text) {
            self = time
        } else {
            throw SinceParseError(value: text)
        }
    }

    /// `30s` → 30 000; nil when the text is not digits and a unit, or too large.
    private static func ageMilliseconds(_ text: String) -> Int64? {
        guard let unit = text.utf8.last, text.utf8.count >= 2 else { return nil }
        let millisecondsPerUnit: Int64
        switch unit {
        case UInt8(ascii: "s"): millisecondsPerUnit = 1000
        case UInt8(ascii: "m"): millisecondsPerUnit = 60_000
        case UInt8(ascii: "h"): millisecondsPerUnit = 3_600_000
        case UInt8(ascii: "d"): millisecondsPerUnit = 86_400_000
        default: return nil
        }
        var count: Int64 = 0
        for digit in text.utf8.dropLast() {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            let (shifted, overflow1) = count.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(digit - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            count = sum
        }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: millisecondsPerUnit)
        return overflow ? nil : milliseconds
    }
}
