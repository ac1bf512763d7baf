/// A point in time with millisecond precision, as audit records carry it (`audit(SECONDS.MILLIS:SERIAL)`).
///
/// Formatting and parsing are done by hand on bytes: no Foundation formatter is involved, so the
/// type is cheap enough for the per-event path.
public struct EventTime: Hashable, Comparable, Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// A time from trusted parts (the clock, constants). Times read from outside go through the
    /// checked initializers below, which refuse what does not fit instead of trapping.
    public init(seconds: Int64, milliseconds: Int64 = 0) {
        self.millisecondsSinceEpoch = seconds * 1000 + milliseconds
    }

    public static func < (lhs: EventTime, rhs: EventTime) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// This time shifted by a number of whole seconds.
    public func adding(seconds: Int64) -> EventTime {
        EventTime(millisecondsSinceEpoch: millisecondsSinceEpoch + seconds * 1000)
    }
}

// MARK: - Times from outside

extension EventTime {
    /// The times accepted from outside (JSON, audit records, query strings): years 1970 to 9999,
    /// `1970-01-01T00:00:00.000Z` … `9999-12-31T23:59:59.999Z`, in milliseconds since the epoch.
    public static let acceptedMilliseconds: ClosedRange<Int64> = 0...253_402_300_799_999

    /// What ``acceptedMilliseconds`` means, for error messages.
    public static let acceptedRangeDescription = "a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z"

    /// A time read from outside; nil when it lies outside ``acceptedMilliseconds``.
    public init?(acceptedMilliseconds milliseconds: Int64) {
        guard Self.acceptedMilliseconds.contains(milliseconds) else { return nil }
        self.init(millisecondsSinceEpoch: milliseconds)
    }

    /// `seconds * 1000 + milliseconds` with checked arithmetic; nil when it overflows or lies outside
    /// ``acceptedMilliseconds``.
    public init?(acceptedSeconds seconds: Int64, milliseconds: Int64 = 0) {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (sum, overflow2) = scaled.addingReportingOverflow(milliseconds)
        guard !overflow2 else { return nil }
        self.init(acceptedMilliseconds: sum)
    }

    /// Epoch seconds with a fraction (`1795860000.123`), rounded to milliseconds; nil for `nan`,
    /// infinities and anything outside ``acceptedMilliseconds``.
    public init?(acceptedEpochSeconds seconds: Double) {
        guard seconds.isFinite else { return nil }
        let milliseconds = (seconds * 1000).rounded()
        // Compared as doubles before converting: Int64(_:) traps on values it cannot hold.
        guard milliseconds >= Double(Self.acceptedMilliseconds.lowerBound),
            milliseconds <= Double(Self.acceptedMilliseconds.upperBound)
        else { return nil }
        self.init(acceptedMilliseconds: Int64(milliseconds))
    }
}

// MARK: - RFC 3339

extension EventTime {
    /// `2026-11-28T10:00:00.123Z`: RFC 3339, UTC, always with milliseconds.
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the RFC 3339 form (see ``rfc3339``) to a byte buffer.
    public func appendRFC3339(to bytes: inout [UInt8]) {
        let millis = millisecondsSinceEpoch
        var days = millis / 86_400_000
        var msOfDay = millis % 86_400_000
        if msOfDay < 0 {
            msOfDay += 86_400_000
            days -= 1
        }
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        appendDigits(year, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(msOfDay / 3_600_000, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(msOfDay / 60_000 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(msOfDay / 1000 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(msOfDay % 1000, count: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses RFC 3339 date-times: `2026-11-28T10:00:00Z`, `…T10:00:00.5+02:00`, lower-case `t`/`z`,
    /// a space instead of `T`. Fractions beyond milliseconds are truncated. Returns nil when the text
    /// is not a valid date-time or names a time outside ``acceptedMilliseconds`` (years 1970–9999).
    public init?(rfc3339 text: String) {
        var text = text
        let parsed: EventTime? = text.withUTF8 { Self.parseRFC3339(UnsafeRawBufferPointer($0)) }
        guard let parsed else { return nil }
        self = parsed
    }

    private static func parseRFC3339(_ b: UnsafeRawBufferPointer) -> EventTime? {
        var i = 0
        func number(_ width: Int) -> Int64? {
            guard i + width <= b.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<width {
                let c = b[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int64(c - 0x30)
                i += 1
            }
            return value
        }
        func expect(_ options: UInt8...) -> Bool {
            guard i < b.count, options.contains(b[i]) else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month), hour < 24,
            minute < 60, second < 61
        else { return nil }
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2), expect(UInt8(ascii: ":")), let om = number(2), oh < 24, om < 60 else {
                return nil
            }
            offsetMinutes = sign * (oh * 60 + om)
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        // Four-digit years and two-digit fields keep this far inside Int64.
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        return EventTime(acceptedSeconds: seconds, milliseconds: millis)
    }

    // Howard Hinnant's days-from-civil / civil-from-days algorithms (proleptic Gregorian calendar).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

@inline(__always)
private func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
    var divisor: Int64 = 1
    for _ in 1..<count { divisor *= 10 }
    var v = value
    if v >= divisor * 10 {  // wider than requested (a year past 9999): write all digits
        var digits: [UInt8] = []
        while v > 0 {
            digits.append(UInt8(v % 10) + 0x30)
            v /= 10
        }
        bytes.append(contentsOf: digits.reversed())
        return
    }
    while divisor > 0 {
        bytes.append(UInt8(v / divisor) + 0x30)
        v %= divisor
        divisor /= 10
    }
}
