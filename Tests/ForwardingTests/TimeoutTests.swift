import NIOCore
import Testing

@testable import Forwarding

/// Collectors that take connections and then do not answer, or answer too slowly: the request
/// timeout covers the whole exchange, retries go on, nothing leaves the outbox unacknowledged, and
/// the status says which timeout fired for which collector.
@Suite("Collectors that do not answer, or answer a byte at a time")
struct TimeoutTests {
    static let requestTimeoutMilliseconds = 400

    static func configuration(url: String) -> ForwardConfiguration {
        var configuration = ForwardConfiguration.test(url: url)
        configuration.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        return configuration
    }

    static func expectTimeoutReported(_ status: ForwarderStatus, url: String) {
        #expect(status.retries >= 2, "retries go on")
        #expect(
            status.lastError
                == "timeout: no complete reply from \(url) within \(requestTimeoutMilliseconds) ms "
                + "(forward.requestTimeoutMilliseconds)"
        )
        #expect(status.lastErrorKind == .requestTimeout)
        #expect(status.state != .idle)
        #expect(status.forwarded == 0)
    }

    @Test("a collector that never answers: the request timeout fires, retries go on, the outbox is kept")
    func neverAnswers() async throws {
        let collector = try await TestCollector.start { _, index in index < 3 ? .silence : .accepted() }
        defer { Task { await collector.stop() } }
        let run = try await ForwarderRun.start(Self.configuration(url: collector.url), storing: [Sample.update()])
        let status = try await run.waitForStatus(seconds: 20) { $0.retries >= 2 }
        Self.expectTimeoutReported(status, url: collector.url)
        #expect(try await run.outboxDepth() == 1)
        // The collector answers again: the row is delivered, once acknowledged.
        #expect(try await run.waitForEmptyOutbox() == 0)
        let delivered = try await run.waitForStatus { $0.forwarded == 1 }
        await run.stop()
        #expect(delivered.forwarded == 1)
        #expect(collector.requests.count == 4)
        // Logged once at error level when it started, naming the timeout and the collector.
        let errors = run.log.messages(at: .error).filter { $0.contains("(forward.requestTimeoutMilliseconds)") }
        #expect(errors.count == 1 && errors[0].contains(collector.url), "\(errors)")
    }

    @Test("a collector that answers a byte at a time: the request timeout ends the reply's body too")
    func answersAByteAtATime() async throws {
        // The head at once, then the body a byte every 200 ms: two minutes for the whole reply,
        // each byte well within the read timeout. The request timeout bounds the whole exchange,
        // so two attempts time out long before one slow reply could end (the bound is loose: a
        // busy CI machine may take seconds to schedule the attempts).
        var reply = TestCollector.Reply.accepted()
        reply.body += String(repeating: " ", count: 600)
        reply.pace = .byteEvery(.milliseconds(200))
        let slow = reply
        let collector = try await TestCollector.start { _, index in index < 2 ? slow : .accepted() }
        defer { Task { await collector.stop() } }
        let started = ContinuousClock.now
        let run = try await ForwarderRun.start(Self.configuration(url: collector.url), storing: [Sample.update()])
        let status = try await run.waitForStatus(seconds: 60) { $0.retries >= 2 }
        Self.expectTimeoutReported(status, url: collector.url)
        // Two timeouts of 400 ms and a short backoff, not a slow reply (120 s).
        #expect(started.duration(to: .now) < .seconds(60))
        #expect(try await run.waitForEmptyOutbox() == 0)
        await run.stop()
        #expect(collector.requests.count == 3)
    }
}
