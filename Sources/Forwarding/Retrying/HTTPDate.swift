import ExecEvents

/// HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, and the
/// obsolete forms a recipient must still accept, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and
/// asctime `Sun Nov  6 08:49:37 1994`. Always UTC.
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> EventTime? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let day: Int
        let month: Int
        var year: Int
        let time: String
        switch words.count {
        case 6 where words[5] == "GMT":
            // Sun, 06 Nov 1994 08:49:37 GMT
            guard let d = Int(words[1]), let m = monthNumber(words[2]), let y = Int(words[3]) else { return nil }
            (day, month, year, time) = (d, m, y, words[4])
        case 4 where words[3] == "GMT":
            // Sunday, 06-Nov-94 08:49:37 GMT
            let parts = words[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let d = Int(parts[0]), let m = monthNumber(parts[1]), let y = Int(parts[2])
            else { return nil }
            (day, month, year, time) = (d, m, y, words[2])
            // Two-digit years: RFC 9110 asks to take the one less than 50 years ahead; 70-99 -> 19xx.
            if parts[2].count == 2 { year += year < 70 ? 2000 : 1900 }
        case 5:
            // Sun Nov  6 08:49:37 1994
            guard let m = monthNumber(words[1]), let d = Int(words[2]), let y = Int(words[4]) else { return nil }
            (day, month, year, time) = (d, m, y, words[3])
        default:
            return nil
        }
        let clock = time.split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), (1...31).contains(day), (0...9999).contains(year)
        else { return nil }
        let rfc3339 = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(clock.joined(separator: ":"))Z"
        return EventTime(rfc3339: rfc3339)
    }

    private static func monthNumber(_ name: String) -> Int? {
        months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
