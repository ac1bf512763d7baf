import ExecEvents

/// The `Retry-After` header of a 429 or 503 reply: how long the collector asks us to wait.
enum RetryAfter {
    /// Longest wait honoured: a collector asking for more is asked again after ten minutes.
    static let maximumMilliseconds: Int64 = 10 * 60 * 1000

    /// The wait in milliseconds asked for by `value` — delay-seconds (`120`) or an HTTP-date
    /// (`Wed, 21 Oct 2015 07:28:00 GMT`, taken relative to `now`) — capped at ten minutes; a date in
    /// the past means no wait. Nil when the value is neither.
    static func milliseconds(_ value: String, now: EventTime) -> Int64? {
        let text = value.trimmingASCIISpaces
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Many digits: more than the cap anyway.
            guard text.utf8.count <= 12, let seconds = Int64(text) else { return maximumMilliseconds }
            return min(seconds * 1000, maximumMilliseconds)
        }
        guard let date = HTTPDate.parse(text) else { return nil }
        return min(max(0, date.millisecondsSinceEpoch - now.millisecondsSinceEpoch), maximumMilliseconds)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingASCIISpaces: String {
        let bytes = Array(utf8)
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
            let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
