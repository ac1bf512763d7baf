import ExecEvents
import Testing

@testable import Journal

@Suite("--since values")
struct SinceParsingTests {
    let now = EventTime(millisecondsSinceEpoch: 1_795_860_000_000)

    @Test(arguments: [
        ("30s", Int64(30_000)), ("15m", 900_000), ("1h", 3_600_000), ("2d", 172_800_000), ("0s", 0),
        ("90m", 5_400_000),
    ])
    func agesCountBackFromNow(text: String, milliseconds: Int64) throws {
        #expect(
            try EventTime(since: text, now: now).millisecondsSinceEpoch == now.millisecondsSinceEpoch - milliseconds
        )
    }

    @Test func rfc3339TimesAreTakenAsTheyAre() throws {
        #expect(try EventTime(since: "2026-11-28T10:00:00Z", now: now) == EventTime(rfc3339: "2026-11-28T10:00:00Z"))
        #expect(
            try EventTime(since: "2026-11-28T12:00:00.5+02:00", now: now)
                == EventTime(rfc3339: "2026-11-28T10:00:00.500Z")
        )
    }

    @Test(arguments: [
        "", "h", "1", "1w", "1H", "-1h", "1.5h", " 1h", "yesterday", "99999999999999999999d", "2026-13-01T00:00:00Z",
        "100000d", "9223372036854775807s", "1969-12-31T23:59:59Z",
    ])
    func badValuesAreRefusedByName(text: String) {
        #expect(throws: SinceParseError(value: text)) { try EventTime(since: text, now: now) }
        #expect(SinceParseError(value: text).description.contains("\"\(text)\""))
    }
}
