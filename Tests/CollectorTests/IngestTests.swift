import CollectorStorage
import ExecEvents
import Hummingbird
import HummingbirdTesting
import NIOCore
import RuleEngine
import TestSupport
import Testing

@testable import Collector

@Suite("POST /api/v1/incidents")
struct IngestTests {
    @Test("a batch is stored and every incident's outcome reported")
    func storesBatch() async throws {
        let collector = try await TestCollector.make()
        let incidents = [Fixtures.incident(user: "alice"), Fixtures.incident(user: "bob")]
        try await collector.test { client throws in
            let response = try await client.ingest(Fixtures.jsonArray(incidents), headers: collector.ingestHeaders())
            #expect(response.status == .ok)
            let reply = try response.json
            #expect(reply["accepted"]?.integerValue == 2)
            #expect(reply["created"]?.integerValue == 2)
            #expect(reply["updated"]?.integerValue == 0)
            #expect(reply["unchanged"]?.integerValue == 0)
            let entries = try #require(reply["incidents"]?.arrayValue)
            #expect(entries.count == 2)
            #expect(entries[0]["incidentId"]?.stringValue == incidents[0].incidentId.description)
            #expect(entries[0]["version"]?.integerValue == 1)
            #expect(entries[0]["outcome"]?.stringValue == "created")

            let page = try await collector.store.incidents(IncidentQuery())
            #expect(page.incidents.count == 2)
            #expect(page.incidents.allSatisfy { $0.receivedFrom == TestCollector.agentName })
            #expect(incidents.allSatisfy { incident in page.incidents.contains { $0.incident == incident } })
        }
    }

    @Test("the same batch twice: the second time all unchanged; a lower version is ignored, a higher one updates")
    func upsertIdempotence() async throws {
        let collector = try await TestCollector.make()
        let v2 = Fixtures.incident(version: 2, count: 2, lastSeen: Fixtures.baseTime.adding(seconds: 5))
        try await collector.test { client throws in
            let body = Fixtures.jsonArray([v2])
            let first = try await client.ingest(body, headers: collector.ingestHeaders())
            #expect(try first.json["created"]?.integerValue == 1)
            let second = try await client.ingest(body, headers: collector.ingestHeaders())
            #expect(second.status == .ok)
            #expect(try second.json["unchanged"]?.integerValue == 1)
            #expect(try second.json["created"]?.integerValue == 0)

            let older = try await client.ingest(
                Fixtures.jsonArray([Fixtures.incident()]),
                headers: collector.ingestHeaders()
            )
            #expect(try older.json["unchanged"]?.integerValue == 1)
            #expect(try older.json["incidents"]?.arrayValue?.first?["outcome"]?.stringValue == "unchanged")
            var stored = try await collector.store.incidents(IncidentQuery())
            #expect(stored.incidents.map(\.incident) == [v2])

            let v3 = Fixtures.incident(version: 3, count: 3, lastSeen: Fixtures.baseTime.adding(seconds: 9))
            let newer = try await client.ingest(Fixtures.jsonArray([v3]), headers: collector.ingestHeaders())
            #expect(try newer.json["updated"]?.integerValue == 1)
            stored = try await collector.store.incidents(IncidentQuery())
            #expect(stored.incidents.map(\.incident) == [v3])
        }
    }

    @Test("an empty array is 200 with zeros")
    func emptyArray() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.ingest("[]", headers: collector.ingestHeaders())
            #expect(response.status == .ok)
            #expect(response.text == #"{"accepted":0,"created":0,"updated":0,"unchanged":0,"incidents":[]}"#)
        }
    }

    @Test("gzip bodies are accepted")
    func gzipBody() async throws {
        let collector = try await TestCollector.make()
        let body = try Fixtures.gzip(Array(Fixtures.jsonArray([Fixtures.incident()]).utf8))
        try await collector.test { client throws in
            let response = try await client.execute(
                uri: "/api/v1/incidents",
                method: .post,
                headers: collector.ingestHeaders([.contentEncoding: "gzip"]),
                body: body
            )
            #expect(response.status == .ok)
            #expect(try response.json["created"]?.integerValue == 1)
        }
    }

    @Test("a media type other than JSON is 415", arguments: [nil, "text/plain", "application/x-www-form-urlencoded"])
    func wrongContentType(_ contentType: String?) async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            var headers = collector.bearer
            if let contentType { headers[.contentType] = contentType }
            let response = try await client.ingest("[]", headers: headers)
            #expect(response.status == .unsupportedMediaType)
            #expect(response.errorReason == "Content-Type must be application/json")
        }
    }

    @Test("application/json with a charset is fine")
    func contentTypeWithCharset() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            var headers = collector.ingestHeaders()
            headers[.contentType] = "Application/JSON; charset=utf-8"
            #expect(try await client.ingest("[]", headers: headers).status == .ok)
        }
    }

    @Test("an encoding other than gzip is 415")
    func wrongEncoding() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.ingest("[]", headers: collector.ingestHeaders([.contentEncoding: "br"]))
            #expect(response.status == .unsupportedMediaType)
            #expect(response.errorReason?.contains("Content-Encoding \"br\"") == true)
        }
    }

    @Test("a body over limits.maxBodyBytes is 413")
    func oversizedBody() async throws {
        let collector = try await TestCollector.make { $0.limits.maxBodyBytes = 4096 }
        try await collector.test { client throws in
            let body = Fixtures.jsonArray(Array(repeating: Fixtures.incident(), count: 20))
            #expect(body.utf8.count > 4096)
            let response = try await client.ingest(body, headers: collector.ingestHeaders())
            #expect(response.status == .contentTooLarge)
            #expect(response.errorReason == "body is larger than 4096 bytes (limits.maxBodyBytes)")
        }
    }

    @Test("a gzip bomb stops at limits.maxBodyBytes: 413")
    func gzipBomb() async throws {
        let collector = try await TestCollector.make { $0.limits.maxBodyBytes = 1 << 20 }
        let bomb = try Fixtures.gzip(Array(repeating: UInt8(ascii: " "), count: 64 << 20))
        #expect(bomb.readableBytes < 1 << 20)
        try await collector.test { client throws in
            let response = try await client.execute(
                uri: "/api/v1/incidents",
                method: .post,
                headers: collector.ingestHeaders([.contentEncoding: "gzip"]),
                body: bomb
            )
            #expect(response.status == .contentTooLarge)
            #expect(response.errorReason == "decompressed body is larger than 1048576 bytes (limits.maxBodyBytes)")
        }
        let rejected = String(decoding: collector.metrics.exposition(), as: UTF8.self)
        #expect(rejected.contains(#"execwatch_collector_rejected_bodies_total{status="413"} 1"#))
    }

    @Test("truncated or corrupt gzip is 400")
    func truncatedGzip() async throws {
        let collector = try await TestCollector.make()
        let whole = try Fixtures.gzip(Array(Fixtures.jsonArray([Fixtures.incident()]).utf8))
        let truncated = whole.getSlice(at: whole.readerIndex, length: whole.readableBytes - 9)!
        var corrupted = whole
        corrupted.setInteger(UInt8(0xFF), at: corrupted.readerIndex + 20)
        let corrupt = corrupted
        try await collector.test { client throws in
            for body in [truncated, corrupt, ByteBuffer(string: "[] not gzip at all")] {
                let response = try await client.execute(
                    uri: "/api/v1/incidents",
                    method: .post,
                    headers: collector.ingestHeaders([.contentEncoding: "gzip"]),
                    body: body
                )
                #expect(response.status == .badRequest)
                #expect(response.errorReason == "body is not valid gzip")
            }
        }
    }

    @Test("invalid bodies are 400 with a reason naming the index and the field")
    func invalidBodies() async throws {
        let collector = try await TestCollector.make { $0.limits.maxStringBytes = 1000 }
        let good = Fixtures.incident().jsonLine
        let cases: [(body: String, reason: String)] = [
            ("[" + good, "body is not valid JSON: unexpected end of input in array at byte \(good.utf8.count + 1)"),
            ("{\"incidents\":[]}", "body must be a JSON array of incidents, got an object"),
            ("[\(good),42]", "incident 1: expected an incident object, got a number"),
            (
                "[\(try Fixtures.incidentObject { $0 = $0.map { $0.0 == "count" ? ("count", .string("1")) : $0 } })]",
                "incident 0: field \"count\": expected an integer"
            ),
            (
                "[\(good),\(try Fixtures.incidentObject { $0.removeAll { $0.0 == "ruleId" } })]",
                "incident 1: field \"ruleId\": missing"
            ),
            (
                "[\(try Fixtures.incidentObject { $0 = $0.map { $0.0 == "firstSeen" ? ("firstSeen", .string("yesterday")) : $0 } })]",
                "incident 0: field \"firstSeen\": not an RFC 3339 time from 1970 to 9999: \"yesterday\""
            ),
            (
                "[\(try Fixtures.incidentObject { $0 = $0.map { $0.0 == "version" ? ("version", .integer(0)) : $0 } })]",
                "incident 0: field \"version\": must be at least 1"
            ),
            (
                Fixtures.jsonArray([Fixtures.incident(swParam: String(repeating: "A", count: 1001))]),
                "incident 0: field \"attributes.swParam\": string of 1001 bytes is longer than limits.maxStringBytes (1000)"
            ),
        ]
        try await collector.test { client throws in
            for (body, reason) in cases {
                let response = try await client.ingest(body, headers: collector.ingestHeaders())
                #expect(response.status == .badRequest, "\(reason)")
                #expect(response.errorReason == reason)
            }
            // Nothing of a refused batch is stored, not even its valid incidents.
            #expect(try await collector.store.incidentCount() == 0)
        }
    }

    @Test("a store failure is 503 with Retry-After")
    func storageFailure() async throws {
        let store = InMemoryCollectorStore()
        let token = "ewt_test"
        try await store.addCredential(
            Credential(name: "web-1", role: .agent, tokenHash: CredentialToken.hash(token), createdAt: .now)
        )
        await store.setFailing(upserts: true)
        let application = try CollectorServer(configuration: CollectorConfiguration(), store: store, logger: .quiet)
            .makeApplication()
        try await application.test(.router) { client throws in
            let response = try await client.ingest(
                Fixtures.jsonArray([Fixtures.incident()]),
                headers: [.contentType: "application/json", .authorization: "Bearer \(token)"]
            )
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "5")
            #expect(response.errorReason == "storage unavailable, retry later")
        }
    }

    @Test(
        "a full store or an unreachable one is 503 saying which, with Retry-After; /metrics counts it by cause",
        arguments: [(StorageFailureCause.full, "storage full"), (.unreachable, "storage unreachable")]
    )
    func storageFullOrUnreachable(cause: StorageFailureCause, words: String) async throws {
        let store = InMemoryCollectorStore()
        let token = "ewt_test"
        try await store.addCredential(
            Credential(name: "web-1", role: .agent, tokenHash: CredentialToken.hash(token), createdAt: .now)
        )
        let failure = CollectorStoreError.database(operation: "store 1 incidents", reason: "test", cause: cause)
        await store.setFailing(upserts: true, with: failure)
        let metrics = CollectorMetrics()
        let application = try CollectorServer(
            configuration: CollectorConfiguration(),
            store: store,
            metrics: metrics,
            logger: .quiet
        )
        .makeApplication()
        let headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
        try await application.test(.router) { client throws in
            for _ in 0..<2 {
                let response = try await client.ingest(Fixtures.jsonArray([Fixtures.incident()]), headers: headers)
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
                #expect(response.errorReason == "\(words), retry later")
            }
            var exposition = String(decoding: metrics.exposition(), as: UTF8.self)
            #expect(exposition.contains("execwatch_collector_storage_failures_total{cause=\"\(cause.rawValue)\"} 2"))
            #expect(exposition.contains("execwatch_collector_storage_available 0.0"))
            // Storage back: the same batch is stored, and the gauge says so.
            await store.setFailing(upserts: false)
            let response = try await client.ingest(Fixtures.jsonArray([Fixtures.incident()]), headers: headers)
            #expect(response.status == .ok)
            exposition = String(decoding: metrics.exposition(), as: UTF8.self)
            #expect(exposition.contains("execwatch_collector_storage_available 1.0"))
        }
    }

    @Test("another host's incident is 403 naming its index and hostName; nothing of the batch is stored")
    func anotherHostsIncident() async throws {
        let collector = try await TestCollector.make()
        let own = Fixtures.incident(user: "alice")
        let foreign = Fixtures.incident(host: "db-1", version: 99, count: 12345)
        try await collector.test { client throws in
            let response = try await client.ingest(
                Fixtures.jsonArray([own, foreign]),
                headers: collector.ingestHeaders()
            )
            #expect(response.status == .forbidden)
            #expect(
                response.errorReason
                    == "incident 1: hostName \"db-1\" is not this agent's host: agent \"web-1\" may only send "
                    + "incidents whose hostName is \"web-1\""
            )
            #expect(try await collector.store.incidentCount() == 0)
        }
        let metrics = String(decoding: collector.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains(#"execwatch_collector_rejected_bodies_total{status="403"} 1"#))
    }

    @Test("an incident with the id of another host's stored incident is 403 and never overwrites it")
    func collidingId() async throws {
        let collector = try await TestCollector.make()
        let theirs = Fixtures.incident(host: "db-1", user: "root")
        _ = try await collector.store.upsert([
            ReceivedIncident(incident: theirs, receivedFrom: "db-1", receivedAt: Fixtures.baseTime)
        ])
        var forged = Fixtures.incident(version: 99, count: 12345)
        forged.incidentId = theirs.incidentId
        let body = Fixtures.jsonArray([Fixtures.incident(user: "carol"), forged])
        try await collector.test { client throws in
            let response = try await client.ingest(
                body,
                headers: collector.ingestHeaders()
            )
            #expect(response.status == .forbidden)
            #expect(response.errorReason == "incident 1: incidentId \(theirs.incidentId) is another host's incident")
            let stored = try await collector.store.incidents(IncidentQuery())
            #expect(stored.incidents.map(\.incident) == [theirs])
            #expect(stored.incidents.first?.receivedFrom == "db-1")
        }
    }

    @Test("unknown incident fields are ignored: 200, stored without them")
    func unknownFields() async throws {
        let collector = try await TestCollector.make()
        let newer = try Fixtures.incidentObject {
            $0.append(("ruleLicense", .string("Florian Roth")))
            $0.append(("futureFlags", .array([.bool(true)])))
        }
        try await collector.test { client throws in
            let response = try await client.ingest("[\(newer)]", headers: collector.ingestHeaders())
            #expect(response.status == .ok)
            #expect(try response.json["created"]?.integerValue == 1)
            let stored = try await collector.store.incidents(IncidentQuery())
            #expect(stored.incidents.map(\.incident) == [Fixtures.incident()])
            #expect(!stored.incidents[0].incident.jsonLine.contains("ruleLicense"))
        }
    }

    @Test("ruleAuthor and ruleSource are stored; not a string, or too long, is 400 naming the field")
    func ruleProvenance() async throws {
        let collector = try await TestCollector.make { $0.limits.maxStringBytes = 1000 }
        var incident = Fixtures.incident()
        incident.ruleAuthor = "Florian Roth"
        incident.ruleSource = "https://github.com/SigmaHQ/sigma/blob/master/rules/linux/r.yml"
        let sigma = incident
        let number = try Fixtures.incidentObject { $0.append(("ruleAuthor", .integer(5))) }
        let long = try Fixtures.incidentObject {
            $0.append(("ruleSource", .string(String(repeating: "x", count: 1001))))
        }
        try await collector.test { client throws in
            let wrong = try await client.ingest("[\(number)]", headers: collector.ingestHeaders())
            #expect(wrong.status == .badRequest)
            #expect(wrong.errorReason == "incident 0: field \"ruleAuthor\": expected a string")
            let tooLong = try await client.ingest("[\(long)]", headers: collector.ingestHeaders())
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.errorReason?.hasPrefix("incident 0: field \"ruleSource\": string of 1001 bytes") == true)
            #expect(try await collector.store.incidentCount() == 0)
            let response = try await client.ingest(Fixtures.jsonArray([sigma]), headers: collector.ingestHeaders())
            #expect(response.status == .ok)
            #expect(try await collector.store.incidents(IncidentQuery()).incidents.map(\.incident) == [sigma])
        }
    }

    @Test("a known field with a bad value is still 400")
    func knownFieldBadValue() async throws {
        let collector = try await TestCollector.make()
        let bad = try Fixtures.incidentObject {
            $0.append(("ruleLicense", .string("x")))
            $0 = $0.map { $0.0 == "severity" ? ("severity", .string("high")) : $0 }
        }
        try await collector.test { client throws in
            let response = try await client.ingest("[\(bad)]", headers: collector.ingestHeaders())
            #expect(response.status == .badRequest)
            #expect(response.errorReason == "incident 0: field \"severity\": expected an integer")
        }
    }

    @Test(
        "a trigger event time that is not finite or not in years 1970–9999 is a 400 naming it, and the collector keeps serving",
        arguments: [
            JSONValue.number(1e300), .integer(9_223_372_036_854_775_807), .string("nan"), .string("inf"),
            .integer(-1), .string("1e300"), .string("0001-01-01T00:00:00Z"),
        ]
    )
    func hostileEventTime(eventTime: JSONValue) async throws {
        let collector = try await TestCollector.make()
        let hostile = try Fixtures.incidentObject { members in
            members = members.map { name, value in
                guard name == "triggerEvents", case .array(let events) = value, case .object(var event) = events.first
                else { return (name, value) }
                event = event.map { $0.0 == "eventTime" ? ("eventTime", eventTime) : $0 }
                return (name, .array([.object(event)]))
            }
        }
        try await collector.test { client throws in
            let response = try await client.ingest("[\(hostile)]", headers: collector.ingestHeaders())
            #expect(response.status == .badRequest)
            let reason = try #require(response.errorReason)
            #expect(reason.hasPrefix("incident 0: field \"triggerEvents[0]\": attribute \"eventTime\": "), "\(reason)")
            #expect(try await collector.store.incidentCount() == 0)

            let good = try await client.ingest(
                Fixtures.jsonArray([Fixtures.incident()]),
                headers: collector.ingestHeaders()
            )
            #expect(good.status == .ok)
            #expect(try await collector.store.incidentCount() == 1)
        }
    }
}

@Suite("Unknown incident fields in the log")
struct UnknownFieldLogTests {
    private static func message(_ field: String) -> String {
        "ignoring incident field \"\(field)\", which this collector does not know (a newer agent?)"
    }

    @Test("logged once per agent and field, at warning")
    func oncePerAgentAndField() {
        let recording = LogRecording()
        let logger = recording.logger()
        let log = UnknownFieldLog()
        log.report(["ruleLicense"], from: "web-1", logger: logger)
        log.report(["ruleLicense", "colour"], from: "web-1", logger: logger)
        log.report(["ruleLicense"], from: "web-2", logger: logger)
        log.report([], from: "web-3", logger: logger)
        #expect(
            recording.entries.map { "\($0.level) \($0.metadata["client"] ?? "-") \($0.message)" } == [
                "warning web-1 " + Self.message("ruleLicense"),
                "warning web-1 " + Self.message("colour"),
                "warning web-2 " + Self.message("ruleLicense"),
            ]
        )
    }

    @Test("memory is bounded: past the capacity one warning says so, then nothing")
    func bounded() {
        let recording = LogRecording()
        let logger = recording.logger()
        let log = UnknownFieldLog(capacity: 2)
        log.report(["a", "b", "c"], from: "web-1", logger: logger)
        log.report(["d"], from: "web-1", logger: logger)
        log.report(["a"], from: "web-1", logger: logger)
        #expect(
            recording.messages(at: .warning) == [
                Self.message("a"), Self.message("b"),
                "ignoring more unknown incident fields without logging them: 2 (agent, field) pairs logged already",
            ]
        )
    }
}
