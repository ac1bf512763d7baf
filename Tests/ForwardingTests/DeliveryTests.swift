import CompressNIO
import Forwarding
import Journal
import NIOCore
import Synchronization
import TestSupport
import Testing

@Suite("Delivery to a collector over the network (127.0.0.1)")
struct DeliveryTests {
    @Test func postsTheOutboxAsAGzipJSONArrayWithTheTokenOverTLS() async throws {
        let certificates = try TestCertificates.load()
        let collector = try await TestCollector.start(tls: try TestCollector.tls(certificates)) { _, _ in .accepted(3) }
        defer { Task { await collector.stop() } }
        let directory = try TemporaryDirectory()
        var configuration = ForwardConfiguration.test(url: collector.url + "/")
        configuration.caFile = certificates.path("ca.pem")
        configuration.tokenFile = try directory.write("token", "s3cret-token\n", mode: 0o600)
        let updates = [Sample.update(user: "alice"), Sample.update(user: "bob"), Sample.update(user: "carol")]
        let run = try await ForwarderRun.start(configuration, storing: updates)
        let rows = try await run.journal.pendingOutbox(limit: 10)
        #expect(rows.count == 3)

        #expect(try await run.waitForEmptyOutbox() == 0)
        let status = try await run.waitForStatus { $0.forwarded == 3 }
        await run.stop()

        let request = try #require(collector.requests.first)
        #expect(collector.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.uri == "/api/v1/incidents")
        #expect(request.header("Authorization") == "Bearer s3cret-token")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("Content-Encoding") == "gzip")
        #expect(request.header("User-Agent") == "execwatch-agent")
        var compressed = ByteBuffer(bytes: request.body)
        let body = try compressed.decompress(with: .gzip())
        #expect(String(buffer: body) == "[" + rows.map(\.json).joined(separator: ",") + "]")
        #expect(status.forwarded == 3)
        #expect(status.rejected == 0)
        #expect(status.consecutiveFailures == 0)
        #expect(status.lastError == nil)
        #expect(status.lastSuccessAt != nil)
        #expect(status.url == collector.url)
    }

    @Test func plainHTTPWithoutGzipOrToken() async throws {
        let collector = try await TestCollector.start { _, _ in .accepted() }
        defer { Task { await collector.stop() } }
        var configuration = ForwardConfiguration.test(url: collector.url)
        configuration.gzip = false
        let run = try await ForwarderRun.start(configuration, storing: [Sample.update()])
        #expect(try await run.waitForEmptyOutbox() == 0)
        await run.stop()
        let request = try #require(collector.requests.first)
        #expect(request.header("Authorization") == nil)
        #expect(request.header("Content-Encoding") == nil)
        #expect(String(decoding: request.body, as: UTF8.self) == "[" + Sample.incident().jsonLine + "]")
    }

    @Test func rowsStayUntilTheCollectorSaysYes() async throws {
        let open = Mutex(false)
        let collector = try await TestCollector.start { _, _ in
            open.withLock { $0 } ? .accepted(2) : .error(500, "database is locked")
        }
        defer { Task { await collector.stop() } }
        let run = try await ForwarderRun.start(
            .test(url: collector.url),
            storing: [Sample.update(user: "alice"), Sample.update(user: "bob")]
        )
        try await collector.waitForRequests(3)
        let failing = run.forwarder.status
        #expect(try await run.outboxDepth() == 2)
        #expect(failing.forwarded == 0)
        #expect(failing.retries >= 2)
        #expect(failing.consecutiveFailures >= 2)
        #expect(failing.lastError == "500 Internal Server Error: database is locked")
        #expect(failing.lastErrorAt != nil)
        // Logged at error level once, not at every retry.
        #expect(run.log.messages(at: .error).count == 1)
        #expect(run.log.messages(at: .error).first?.contains("database is locked") == true)

        open.withLock { $0 = true }
        #expect(try await run.waitForEmptyOutbox() == 0)
        let recovered = try await run.waitForStatus { $0.forwarded == 2 }
        await run.stop()
        #expect(recovered.consecutiveFailures == 0)
        #expect(recovered.state == .idle)
        #expect(run.log.messages(at: .info).contains { $0.contains("works again") })
    }

    @Test func newIncidentsAreSentSoonAfterAWake() async throws {
        let collector = try await TestCollector.start { _, _ in .accepted() }
        defer { Task { await collector.stop() } }
        // Polling only every 10 minutes: whatever arrives in time came through the wake.
        let run = try await ForwarderRun.start(.test(url: collector.url), pollInterval: .seconds(600))
        _ = try await run.waitForStatus { $0.state == .idle }
        try await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        try await run.store(Sample.update(user: "alice"))
        try await collector.waitForRequests(1)
        let latency = ContinuousClock.now - start
        #expect(try await run.waitForEmptyOutbox() == 0)
        // Versions stored in quick succession travel together, collapsed to the highest.
        try await run.store(Sample.update(user: "bob", version: 1))
        try await run.store(Sample.update(user: "bob", version: 2))
        try await run.store(Sample.update(user: "bob", version: 3))
        #expect(try await run.waitForEmptyOutbox() == 0)
        let status = try await run.waitForStatus { $0.forwarded == 4 }
        await run.stop()
        // The 50 ms batch window plus a local round trip (typically ~60 ms), far below the poll;
        // the bound is loose so that a loaded machine does not fail it.
        #expect(latency < .seconds(60))
        #expect(status.forwarded == 4)
        let last = try #require(collector.requests.last)
        let body = String(decoding: last.body.isEmpty ? [] : try gunzip(last.body), as: UTF8.self)
        #expect(body.contains("\"version\":3"))
        #expect(!body.contains("\"version\":1,"))
    }

    @Test func retryAfterIsHonoured() async throws {
        let arrivals = Mutex<[ContinuousClock.Instant]>([])
        let collector = try await TestCollector.start { _, index in
            arrivals.withLock { $0.append(.now) }
            return index == 0 ? .error(503, "overloaded", headers: [("Retry-After", "1")]) : .accepted()
        }
        defer { Task { await collector.stop() } }
        let run = try await ForwarderRun.start(.test(url: collector.url), storing: [Sample.update()])
        try await collector.waitForRequests(1)
        let waiting = try await run.waitForStatus { $0.state == .retrying }
        #expect(waiting.lastError == "503 Service Unavailable: overloaded")
        #expect(try await run.waitForEmptyOutbox() == 0)
        await run.stop()
        let times = arrivals.withLock { $0 }
        #expect(times.count == 2)
        let gap = times[1] - times[0]
        // 1 s as asked, not the test's 40 ms backoff.
        #expect(gap >= .milliseconds(950))
        #expect(gap < .seconds(30))
    }

    @Test func aRefusedIncidentIsFoundBySplittingAndKeptAsADeadLetter() async throws {
        let bad = Sample.incident(user: "mallory")
        let collector = try await TestCollector.start { request, _ in
            let body = (try? gunzip(request.body)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return body.contains("\"mallory\"")
                ? .error(422, "incident \(bad.incidentId): attribute user is not allowed") : .accepted()
        }
        defer { Task { await collector.stop() } }
        let updates = [Sample.update(user: "alice"), Sample.update(user: "mallory"), Sample.update(user: "carol")]
        let run = try await ForwarderRun.start(.test(url: collector.url), storing: updates)
        let malloryRow = try #require(
            try await run.journal.pendingOutbox(limit: 10).first { $0.incidentId == bad.incidentId }
        )
        #expect(try await run.waitForEmptyOutbox() == 0)
        let status = try await run.waitForStatus { $0.forwarded == 2 && $0.rejected == 1 }
        // Out of the outbox, but kept: exactly the row refused, with the collector's status and reason.
        let deadLetters = try await run.journal.deadLetters()
        #expect(try await run.journal.deadLetterCount() == 1)
        await run.stop()
        #expect(deadLetters.count == 1)
        let kept = try #require(deadLetters.first)
        #expect(kept.seq == malloryRow.seq)
        #expect(kept.incidentId == bad.incidentId)
        #expect(kept.ruleId == bad.ruleId)
        #expect(kept.version == malloryRow.version)
        #expect(kept.kind == .created)
        #expect(kept.json == malloryRow.json)
        #expect(kept.enqueuedAt == malloryRow.enqueuedAt)
        #expect(kept.status == 422)
        #expect(kept.reason.hasPrefix("422 "))
        #expect(kept.reason.hasSuffix(": incident \(bad.incidentId): attribute user is not allowed"))
        #expect(status.rejected == 1)
        #expect(status.forwarded == 2)
        #expect(status.consecutiveFailures == 0)
        #expect(status.lastError?.contains("422") == true)
        // [alice, mallory, carol] -> [alice] ok, [mallory, carol] -> [mallory] refused, [carol] ok.
        #expect(collector.requests.count == 5)
        let errors = run.log.messages(at: .error)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("\(bad.incidentId)") == true)
        #expect(errors.first?.contains("attribute user is not allowed") == true)
        #expect(errors.first?.contains("dead letters") == true)
        // The others reached the collector.
        let sent = collector.requests.compactMap { try? gunzip($0.body) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(sent.filter { $0.contains("\"alice\"") && !$0.contains("\"mallory\"") }.count == 1)
        #expect(sent.filter { $0.contains("\"carol\"") && !$0.contains("\"mallory\"") }.count == 1)
    }

    /// 413 for an incident alone: larger than the collector takes. Kept too, and the log says how large.
    @Test func anIncidentTooLargeForTheCollectorIsKeptAsADeadLetter() async throws {
        let collector = try await TestCollector.start { request, _ in
            request.body.count > 4000 ? .error(413, "body larger than 4000 bytes") : .accepted()
        }
        defer { Task { await collector.stop() } }
        var large = Sample.update(user: "mallory")
        large.incident.triggerEvents[0].swParam = String(repeating: "A", count: 20_000)
        var configuration = ForwardConfiguration.test(url: collector.url)
        configuration.gzip = false
        let run = try await ForwarderRun.start(configuration, storing: [Sample.update(user: "alice"), large])
        #expect(try await run.waitForEmptyOutbox() == 0)
        let status = try await run.waitForStatus { $0.forwarded == 1 && $0.rejected == 1 }
        let deadLetters = try await run.journal.deadLetters()
        await run.stop()
        #expect(status.forwarded == 1)
        #expect(deadLetters.map(\.incidentId) == [large.incident.incidentId])
        #expect(deadLetters.map(\.status) == [413])
        #expect(deadLetters.first?.reason.hasPrefix("413 ") == true)
        #expect(deadLetters.first?.reason.hasSuffix(": body larger than 4000 bytes") == true)
        let size = large.incident.jsonLine.utf8.count
        #expect(run.log.messages(at: .error).first?.contains("\(size) bytes of JSON") == true)
    }

    @Test func unauthorizedIsRetriedAndNamesTheCollectorsReason() async throws {
        let collector = try await TestCollector.start { _, _ in .error(401, "unknown token") }
        defer { Task { await collector.stop() } }
        let directory = try TemporaryDirectory()
        var configuration = ForwardConfiguration.test(url: collector.url)
        configuration.tokenFile = try directory.write("token", "wrong")
        let run = try await ForwarderRun.start(configuration, storing: [Sample.update()])
        try await collector.waitForRequests(3)
        let status = run.forwarder.status
        #expect(try await run.outboxDepth() == 1)
        await run.stop()
        #expect(status.lastError == "401 Unauthorized: unknown token")
        #expect(status.rejected == 0)
        #expect(status.state == .retrying || status.state == .sending)
        #expect(run.log.messages(at: .error).count == 1)
    }

    @Test func aRestartResendsWhatWasNotAcknowledged() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.path + "/state"
        // First run: the collector is away (nothing listens on the port).
        let away = try await TestCollector.start { _, _ in .accepted() }
        let url = away.url
        await away.stop()
        do {
            let journal = try await IncidentJournal.open(stateDirectory: state)
            try await journal.store(Sample.update(user: "alice"))
            let forwarder = try IncidentForwarder(
                configuration: .test(url: url),
                outbox: journal,
                logger: LogRecording().logger()
            )
            let task = Task { await forwarder.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while forwarder.status.retries < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(forwarder.status.lastError?.contains("connection refused") == true)
            task.cancel()
            await task.value
            #expect(try await journal.outboxDepth() == 1)
            try await journal.close()
        }
        // Second run, with a collector: the row left is sent.
        let collector = try await TestCollector.start { _, _ in .accepted() }
        defer { Task { await collector.stop() } }
        let journal = try await IncidentJournal.open(stateDirectory: state)
        let forwarder = try IncidentForwarder(
            configuration: .test(url: collector.url),
            outbox: journal,
            logger: LogRecording().logger()
        )
        let task = Task { await forwarder.run() }
        try await collector.waitForRequests(1)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await journal.outboxDepth() > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        await task.value
        #expect(try await journal.outboxDepth() == 0)
        #expect(forwarder.status.forwarded == 1)
        try await journal.close()
    }
}

func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
    var buffer = ByteBuffer(bytes: bytes)
    return Array(try buffer.decompress(with: .gzip()).readableBytesView)
}
