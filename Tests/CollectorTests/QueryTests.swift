import CollectorStorage
import ExecEvents
import Hummingbird
import HummingbirdTesting
import NIOCore
import RuleEngine
import Synchronization
import Testing

@testable import Collector

@Suite("Listing incidents")
struct QueryTests {
    let now = EventTime(rfc3339: "2026-11-28T12:00:00Z")!

    @Test("parameters: filters, since as an age or RFC 3339, limit, cursor; empty values are none")
    func parameters() throws {
        let request = try IncidentListRequest(
            query: "hostName=web+1&ruleId=PH_Rule_TH_Linux_23&since=15m&limit=5&cursor=",
            now: now
        )
        #expect(request.hostName == "web 1")
        #expect(request.ruleId == "PH_Rule_TH_Linux_23")
        #expect(request.since == "15m")
        #expect(request.sinceTime == EventTime(rfc3339: "2026-11-28T11:45:00Z"))
        #expect(request.limit == 5)
        #expect(request.cursor == nil)
        #expect(
            try IncidentListRequest(query: "since=2d", now: now).sinceTime == EventTime(rfc3339: "2026-11-26T12:00:00Z")
        )
        #expect(
            try IncidentListRequest(query: "since=2026-11-28T10%3A00%3A00Z", now: now).sinceTime
                == EventTime(rfc3339: "2026-11-28T10:00:00Z")
        )
        #expect(try IncidentListRequest(query: nil, now: now).limit == 100)
        #expect(try IncidentListRequest(query: "hostName=&since=", now: now) == IncidentListRequest())
    }

    @Test(
        "a bad parameter is named",
        arguments: [
            ("limit=0", "parameter \"limit\": expected a whole number from 1 to 1000"),
            ("limit=1001", "parameter \"limit\": expected a whole number from 1 to 1000"),
            ("limit=ten", "parameter \"limit\": expected a whole number from 1 to 1000"),
            ("since=yesterday", "parameter \"since\": expected \(SinceTime.expected)"),
            ("cursor=abc", "parameter \"cursor\": not a cursor this server gave out"),
            ("since=9223372036854775807s", "parameter \"since\": expected \(SinceTime.expected)"),
            ("since=100000d", "parameter \"since\": expected \(SinceTime.expected)"),
            ("since=1969-12-31T23%3A59%3A59Z", "parameter \"since\": expected \(SinceTime.expected)"),
            ("limit=99999999999999999999", "parameter \"limit\": expected a whole number from 1 to 1000"),
            (
                "cursor=9223372036854775807-0123456789abcdef0123456789abcdef",
                "parameter \"cursor\": not a cursor this server gave out"
            ),
            (
                "cursor=-1-0123456789abcdef0123456789abcdef",
                "parameter \"cursor\": not a cursor this server gave out"
            ),
            ("host=web-1", "unknown parameter \"host\"; known: hostName, ruleId, since, limit, cursor, sort"),
            ("sort=name", "parameter \"sort\": expected lastSeen or severity"),
            ("sort=Severity", "parameter \"sort\": expected lastSeen or severity"),
            (
                "sort=severity&cursor=1795860000123-0123456789abcdef0123456789abcdef",
                "parameter \"cursor\": it continues a page sorted by lastSeen"
            ),
            (
                "cursor=7~1795860000123-0123456789abcdef0123456789abcdef",
                "parameter \"cursor\": it continues a page sorted by severity"
            ),
            (
                "sort=severity&cursor=x~1-0123456789abcdef0123456789abcdef",
                "parameter \"cursor\": not a cursor this server gave out"
            ),
            ("limit=1&limit=2", "parameter \"limit\" is given twice"),
        ]
    )
    func badParameter(query: String, reason: String) {
        #expect(throws: QueryParameterError(reason)) { try IncidentListRequest(query: query, now: now) }
    }

    @Test("query strings round-trip through encoding")
    func queryStrings() {
        let pairs = [("hostName", "web 1&2=3"), ("since", "2026-11-28T10:00:00+02:00"), ("x", "é%")]
        let encoded = QueryString.encode(pairs)
        #expect(encoded == "hostName=web%201%262%3D3&since=2026-11-28T10%3A00%3A00%2B02%3A00&x=%C3%A9%25")
        #expect(QueryString.parse(encoded).map { [$0.name, $0.value] } == pairs.map { [$0.0, $0.1] })
        #expect(QueryString.parse("a=%zz&b").map { [$0.name, $0.value] } == [["a", "%zz"], ["b", ""]])
    }

    @Test("GET /api/v1/incidents: newest first, filtered, paged with nextCursor")
    func listing() async throws {
        let collector = try await TestCollector.make()
        let incidents = (0..<5).map { index in
            Fixtures.incident(
                host: index % 2 == 0 ? "web-1" : "db-1",
                user: "user\(index)",
                lastSeen: Fixtures.baseTime.adding(seconds: Int64(index) * 60)
            )
        }
        // Two hosts' incidents, as their own agents sent them.
        _ = try await collector.store.upsert(
            incidents.map { ReceivedIncident(incident: $0, receivedFrom: $0.hostName, receivedAt: Fixtures.baseTime) }
        )
        try await collector.test { client throws in
            let all = try await client.execute(uri: "/api/v1/incidents", method: .get, headers: collector.readerBearer)
            #expect(all.status == .ok)
            #expect(all.headers[.contentType] == "application/json")
            let listed = try #require(try all.json["incidents"]?.arrayValue)
            #expect(listed.map { $0["attributes"]?["user"] } == (0..<5).reversed().map { .string("user\($0)") })
            #expect(try all.json["nextCursor"] == .null)
            // Each element is exactly the agents' incident JSON.
            #expect(try Incident(json: listed[0]) == incidents[4])

            let web = try await client.execute(
                uri: "/api/v1/incidents?hostName=web-1",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(try web.json["incidents"]?.arrayValue?.count == 3)
            let rule = try await client.execute(
                uri: "/api/v1/incidents?ruleId=other",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(try rule.json["incidents"]?.arrayValue?.count == 0)
            let since = "2026-11-28T10:02:00Z"
            let recent = try await client.execute(
                uri: "/api/v1/incidents?since=\(since)",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(try recent.json["incidents"]?.arrayValue?.count == 3)

            var seen: [String] = []
            var uri = "/api/v1/incidents?limit=2"
            for _ in 0..<3 {
                let page = try await client.execute(uri: uri, method: .get, headers: collector.readerBearer)
                let json = try page.json
                seen += json["incidents"]?.arrayValue?.compactMap { $0["attributes"]?["user"]?.stringValue } ?? []
                guard let cursor = json["nextCursor"]?.stringValue else { break }
                uri = "/api/v1/incidents?limit=2&cursor=\(cursor)"
            }
            #expect(seen == ["user4", "user3", "user2", "user1", "user0"])

            let bad = try await client.execute(
                uri: "/api/v1/incidents?limit=5000",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(bad.status == .badRequest)
            #expect(bad.errorReason == "parameter \"limit\": expected a whole number from 1 to 1000")
        }
    }
}

@Suite("The web page")
struct WebPageTests {
    @Test("lists incidents with rule, host, user, procName, swParam, count and times, escaped")
    func page() async throws {
        let collector = try await TestCollector.make()
        let hostile = Fixtures.incident(swParam: "<script>alert(\"x\")</script> & 'y'\u{1B}[2J\u{202E}")
        try await collector.test { client throws in
            #expect(
                try await client.ingest(Fixtures.jsonArray([hostile]), headers: collector.ingestHeaders()).status == .ok
            )
            let response = try await client.execute(
                uri: "/?hostName=web-1",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            #expect(
                response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'; style-src 'unsafe-inline'")
                    == true
            )
            #expect(response.headers[.xContentTypeOptions] == "nosniff")
            let html = response.text
            #expect(html.contains("PH_Rule_TH_Linux_23"))
            #expect(html.contains("Linux: Netcat Process Activity"))
            #expect(html.contains("<td>web-1</td><td>alice</td><td>nc</td>"))
            #expect(html.contains("2026-11-28T10:00:00.123Z"))
            #expect(!html.contains("<script>"))
            #expect(
                html.contains(
                    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;\\x1b[2J\\u{202e}"
                )
            )
            #expect(html.contains("name=\"hostName\" value=\"web-1\""))
        }
    }

    @Test("the next page link keeps the filters and carries the cursor")
    func nextPageLink() throws {
        let incidents = [Fixtures.incident()].map {
            CollectedIncident(incident: $0, receivedFrom: "web-1", receivedAt: Fixtures.baseTime)
        }
        let cursor = IncidentCursor(lastSeen: Fixtures.baseTime, incidentId: incidents[0].incident.incidentId)
        var request = try IncidentListRequest(query: "hostName=a%22b&since=1h&limit=1", now: .now)
        request.cursor = nil
        let html = String(
            decoding: IncidentPageHTML.render(
                IncidentPage(incidents: incidents, nextCursor: cursor),
                charts: nil,
                request: request
            ),
            as: UTF8.self
        )
        #expect(
            html.contains("<a rel=\"next\" href=\"/?hostName=a%22b&amp;since=1h&amp;limit=1&amp;cursor=\(cursor)\">")
        )
        #expect(html.contains("value=\"a&quot;b\""))
    }
}

@Suite("Health and metrics")
struct HealthAndMetricsTests {
    @Test("/healthz is ok while the store answers")
    func health() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(response.text == "ok\n")
        }
    }

    @Test("/healthz is 503 when the store is closed")
    func unhealthy() async throws {
        let collector = try await TestCollector.make()
        try await collector.store.close()
        let application = try CollectorServer(
            configuration: collector.configuration,
            store: collector.store,
            logger: .quiet
        )
        .makeApplication()
        try await application.test(.router) { client throws in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "5")
            #expect(response.errorReason == "storage unavailable, retry later")
        }
    }

    @Test("/metrics counts requests, incidents, auth failures, rejected bodies, and stored incidents")
    func metrics() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let batch = Fixtures.jsonArray([Fixtures.incident(user: "a"), Fixtures.incident(user: "b")])
            _ = try await client.ingest(batch, headers: collector.ingestHeaders())
            _ = try await client.ingest(batch, headers: collector.ingestHeaders())
            _ = try await client.ingest("[", headers: collector.ingestHeaders())
            _ = try await client.ingest(
                "[]",
                headers: [.contentType: "application/json", .authorization: "Bearer nope"]
            )
            _ = try await client.execute(uri: "/nowhere", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            for line in [
                "execwatch_collector_incidents_received_total 4",
                "execwatch_collector_incidents_created_total 2",
                "execwatch_collector_incidents_updated_total 0",
                "execwatch_collector_incidents_unchanged_total 2",
                "execwatch_collector_incidents_stored 2.0",
                #"execwatch_collector_auth_failures_total{reason="unknown"} 1"#,
                #"execwatch_collector_rejected_bodies_total{status="400"} 1"#,
                #"execwatch_collector_http_requests_total{method="POST",route="/api/v1/incidents",status="200"} 2"#,
                #"execwatch_collector_http_requests_total{method="POST",route="/api/v1/incidents",status="401"} 1"#,
                #"execwatch_collector_http_requests_total{method="GET",route="NotFound",status="404"} 1"#,
            ] {
                #expect(text.contains(line + "\n"), "\(line)")
            }
            #expect(
                text.contains("execwatch_collector_http_request_duration_seconds_bucket{route=\"/api/v1/incidents\"")
            )
        }
    }

    @Test("/metrics does not count the store at every scrape; ingest moves the gauge between counts")
    func storedIncidentsGauge() async throws {
        let store = InMemoryCollectorStore()
        let token = try await TestCollector.add(.agent, "web-1", to: store)
        let application = try CollectorServer(
            configuration: CollectorConfiguration(),
            store: store,
            metrics: CollectorMetrics(storedIncidentsRefresh: .seconds(3600)),
            logger: .quiet
        )
        .makeApplication()
        try await application.test(.router) { client throws in
            func gauge() async throws -> String? {
                let text = try await client.execute(uri: "/metrics", method: .get).text
                return text.split(separator: "\n").first { $0.hasPrefix("execwatch_collector_incidents_stored ") }
                    .map(String.init)
            }
            #expect(try await gauge() == "execwatch_collector_incidents_stored 0.0")
            let headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
            let batch = Fixtures.jsonArray([Fixtures.incident(user: "a"), Fixtures.incident(user: "b")])
            #expect(try await client.ingest(batch, headers: headers).status == .ok)
            #expect(try await client.ingest(batch, headers: headers).status == .ok)  // unchanged: no change
            for _ in 0..<50 {
                #expect(try await gauge() == "execwatch_collector_incidents_stored 2.0")
            }
            #expect(await store.counts == 1)
        }
    }

    @Test("the stored incidents are counted again once the refresh interval has passed, one scrape at a time")
    func storedIncidentCountRefresh() async throws {
        let store = InMemoryCollectorStore()
        _ = try await store.upsert([
            ReceivedIncident(incident: Fixtures.incident(), receivedFrom: "web-1", receivedAt: Fixtures.baseTime)
        ])
        let start = ContinuousClock.now
        let elapsed = Mutex(Duration.zero)
        let count = StoredIncidentCount(refreshInterval: .seconds(60)) { start.advanced(by: elapsed.withLock { $0 }) }
        #expect(await count.current(from: store, logger: .quiet) == 1)
        count.add(3)
        elapsed.withLock { $0 = .seconds(59) }
        #expect(await count.current(from: store, logger: .quiet) == 4)
        #expect(await store.counts == 1)
        elapsed.withLock { $0 = .seconds(60) }
        // Counted again: the store's own number replaces the estimate.
        #expect(await count.current(from: store, logger: .quiet) == 1)
        #expect(await store.counts == 2)
        // Many scrapes at once: one count.
        elapsed.withLock { $0 = .seconds(120) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await count.current(from: store, logger: .quiet) } }
        }
        #expect(await store.counts == 3)
    }

    @Test("unknown paths are a JSON 404")
    func notFound() async throws {
        let collector = try await TestCollector.make()
        try await collector.test { client throws in
            let response = try await client.execute(uri: "/nowhere", method: .get)
            #expect(response.status == .notFound)
            #expect(response.errorReason == "not found")
        }
    }
}
