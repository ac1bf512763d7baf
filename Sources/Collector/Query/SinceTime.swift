import ExecEvents

/// The start of a `since` range: an age back from now (`30s`, `15m`, `1h`, `2d`) or an RFC 3339
/// time (`2026-11-28T10:00:00Z`).
public enum SinceTime {
    /// What a `since` value must look like, for error messages.
    public static let expected =
        "an age such as 30s, 15m, 1h or 2d, or an RFC 3339 time such as 2026-11-28T10:00:00Z, not before 1970"

    /// The time `text` names, or nil when it is neither an age nor an RFC 3339 time, or names a
    /// time outside years 1970–9999.
    public static func parse(_ text: String, now: EventTime) -> EventTime? {
        if let age = ageMilliseconds(text) {
            // `now` is not negative and `age` not above Int64.max: the difference cannot overflow.
            return EventTime(acceptedMilliseconds: now.millisecondsSinceEpoch - age)
        }
        return EventTime(rfc3339: text)
    }

    /// `30s` → 30 000; nil when the text is not digits and a unit, or too large.
    private static func ageMilliseconds(_ text: String) -> Int64? {
        guard let unit = text.utf8.last, text.utf8.count >= 2, text.utf8.count <= 20 else { return nil }
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
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = count.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            count = sum
        }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: millisecondsPerUnit)
        return overflow ? nil : milliseconds
    }
}
