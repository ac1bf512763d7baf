import ExecEvents
import Testing

@testable import Forwarding

@Suite("Collector replies: classification and reasons")
struct CollectorReplyTests {
    let now = EventTime(millisecondsSinceEpoch: 1_700_000_000_000)

    func verdict(_ status: Int, _ body: String = "", retryAfter: String? = nil) -> CollectorVerdict {
        CollectorVerdict(
            status: status,
            reasonPhrase: "",
            retryAfter: retryAfter,
            body: CollectorReplyBody(bytes: Array(body.utf8)),
            now: now
        )
    }

    @Test func anyTwoHundredIsAccepted() {
        #expect(verdict(200, #"{"accepted":2,"created":1,"updated":1,"unchanged":0,"incidents":[]}"#) == .accepted)
        #expect(verdict(201) == .accepted)
        #expect(verdict(204) == .accepted)
    }

    @Test func successBodyIsRead() {
        let body = CollectorReplyBody(
            bytes: Array(#"{"accepted":3,"created":1,"updated":1,"unchanged":1,"incidents":[{"incidentId":"x"}]}"#.utf8)
        )
        #expect(body == CollectorReplyBody(accepted: 3, created: 1, updated: 1, unchanged: 1))
    }

    @Test func credentialsRefusalsAreRetriedWithTheCollectorsReason() {
        #expect(verdict(401, #"{"error":"unknown token"}"#) == .unauthorized(reason: "401 Unauthorized: unknown token"))
        #expect(verdict(403, #"{"error":"agent revoked"}"#) == .unauthorized(reason: "403 Forbidden: agent revoked"))
    }

    @Test func contentRefusalsArePermanent() {
        for status in [400, 413, 415, 422] {
            guard case .refusedContent(status, let reason) = verdict(status, #"{"error":"bad incident"}"#) else {
                Issue.record("\(status) is not a content refusal")
                continue
            }
            #expect(reason.hasPrefix("\(status) "))
            #expect(reason.hasSuffix(": bad incident"))
        }
    }

    @Test func serverErrorsAndOthersAreRetriedWithBackoff() {
        #expect(
            verdict(500, #"{"error":"database is locked"}"#)
                == .retryLater(reason: "500 Internal Server Error: database is locked", retryAfterMilliseconds: nil)
        )
        for status in [404, 408, 502, 504, 301] {
            guard case .retryLater(_, nil) = verdict(status) else {
                Issue.record("\(status) is not retried with backoff")
                continue
            }
        }
        // Retry-After is honoured on 429 and 503 only.
        #expect(
            verdict(500, retryAfter: "5")
                == .retryLater(reason: "500 Internal Server Error", retryAfterMilliseconds: nil)
        )
    }

    @Test func retryAfterOn429And503() {
        #expect(
            verdict(503, retryAfter: "1")
                == .retryLater(reason: "503 Service Unavailable", retryAfterMilliseconds: 1000)
        )
        #expect(
            verdict(429, retryAfter: "7") == .retryLater(reason: "429 Too Many Requests", retryAfterMilliseconds: 7000)
        )
        #expect(verdict(429) == .retryLater(reason: "429 Too Many Requests", retryAfterMilliseconds: nil))
        #expect(
            verdict(429, retryAfter: "0") == .retryLater(reason: "429 Too Many Requests", retryAfterMilliseconds: nil)
        )
        #expect(
            verdict(503, retryAfter: "later")
                == .retryLater(reason: "503 Service Unavailable", retryAfterMilliseconds: nil)
        )
    }

    @Test func foreignBodiesBecomeAShortExcerpt() {
        let html = "<html>\n<body>\n  <h1>502 Bad Gateway</h1>\n</body></html>"
        #expect(
            CollectorReplyBody(bytes: Array(html.utf8)).reason
                == "<html> <body> <h1>502 Bad Gateway</h1> </body></html>"
        )
        let long = String(repeating: "a", count: 1000)
        let excerpt = CollectorReplyBody(bytes: Array(long.utf8)).reason ?? ""
        #expect(excerpt.count == CollectorReplyBody.excerptLength + 1)
        #expect(CollectorReplyBody(bytes: []).reason == nil)
        #expect(
            CollectorVerdict.describe(status: 418, reasonPhrase: "I'm a teapot", body: CollectorReplyBody())
                == "418 I'm a teapot"
        )
    }
}
