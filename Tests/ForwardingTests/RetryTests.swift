import ExecEvents
import Testing

@testable import Forwarding

@Suite("Retry schedule: backoff and Retry-After")
struct RetryTests {
    @Test func backoffCeilingDoublesFrom250msUpToTheMaximum() {
        let backoff = RetryBackoff(maximumMilliseconds: 30_000)
        let ceilings = (1...10).map { backoff.ceilingMilliseconds(afterFailures: $0) }
        #expect(ceilings == [250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
        #expect(backoff.ceilingMilliseconds(afterFailures: 10_000) == 30_000)
        #expect(backoff.ceilingMilliseconds(afterFailures: 0) == 250)
    }

    @Test func aMaximumBelow250msCapsTheFirstWaitToo() {
        let backoff = RetryBackoff(maximumMilliseconds: 40)
        #expect(backoff.ceilingMilliseconds(afterFailures: 1) == 40)
        #expect(backoff.ceilingMilliseconds(afterFailures: 5) == 40)
    }

    @Test func jitterIsSpreadOverTheWholeRange() {
        let backoff = RetryBackoff(maximumMilliseconds: 30_000)
        var generator = SystemRandomNumberGenerator()
        for failures in 1...12 {
            let ceiling = backoff.ceilingMilliseconds(afterFailures: failures)
            let delays = (0..<400).map { _ in backoff.delayMilliseconds(afterFailures: failures, using: &generator) }
            #expect(delays.allSatisfy { (0...ceiling).contains($0) })
            // Full jitter: both the lower and the upper quarter of the range are used.
            #expect(delays.contains { $0 < ceiling / 4 })
            #expect(delays.contains { $0 > ceiling * 3 / 4 })
        }
    }

    @Test func retryAfterInSeconds() {
        let now = EventTime(millisecondsSinceEpoch: 1_000_000)
        #expect(RetryAfter.milliseconds("1", now: now) == 1000)
        #expect(RetryAfter.milliseconds(" 120 ", now: now) == 120_000)
        #expect(RetryAfter.milliseconds("0", now: now) == 0)
        #expect(RetryAfter.milliseconds("3600", now: now) == 600_000)
        #expect(RetryAfter.milliseconds("99999999999999999999", now: now) == 600_000)
        #expect(RetryAfter.milliseconds("", now: now) == nil)
        #expect(RetryAfter.milliseconds("-5", now: now) == nil)
        #expect(RetryAfter.milliseconds("soon", now: now) == nil)
    }

    @Test func retryAfterAsAnHTTPDate() throws {
        let now = try #require(EventTime(rfc3339: "2015-10-21T07:27:30Z"))
        #expect(RetryAfter.milliseconds("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == 30_000)
        // The obsolete forms a recipient must accept.
        #expect(RetryAfter.milliseconds("Wednesday, 21-Oct-15 07:28:00 GMT", now: now) == 30_000)
        #expect(RetryAfter.milliseconds("Wed Oct 21 07:28:00 2015", now: now) == 30_000)
        // In the past: no wait; far ahead: ten minutes.
        #expect(RetryAfter.milliseconds("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == 0)
        #expect(RetryAfter.milliseconds("Thu, 22 Oct 2015 07:28:00 GMT", now: now) == 600_000)
        #expect(RetryAfter.milliseconds("Wed, 32 Oct 2015 07:28:00 GMT", now: now) == nil)
        #expect(RetryAfter.milliseconds("Wed, 21 Foo 2015 07:28:00 GMT", now: now) == nil)
    }

    @Test func httpDateParsesToUTC() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == EventTime(rfc3339: "1994-11-06T08:49:37Z"))
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == EventTime(rfc3339: "1994-11-06T08:49:37Z"))
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == EventTime(rfc3339: "1994-11-06T08:49:37Z"))
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49 GMT") == nil)
    }
}
