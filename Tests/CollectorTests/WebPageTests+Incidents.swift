import CollectorStorage
import ExecEvents
import Hummingbird
import HummingbirdTesting
import RuleEngine
import Testing

@testable import Collector

/// The page's columns, sorting, rule provenance, charts and the incident page.
@Suite("The web page with many rules")
struct ManyRulesPageTests {
    static func incident(rule: Int, severity: Int, user: String = "alice", lastSeen: EventTime) -> Incident {
        var incident = Fixtures.incident(ruleId: "R\(rule)", user: user, lastSeen: lastSeen)
        incident.severity = severity
        incident.ruleName = "Rule \(rule)"
        return incident
    }

    @Test("sort=severity orders rows by severity, the headers link to both sorts, the cursor keeps the sort")
    func sorting() async throws {
        let collector = try await TestCollector.make()
        let incidents = (0..<6).map { k in
            Self.incident(
                rule: k,
                severity: [3, 9, 1, 7, 5, 9][k],
                lastSeen: Fixtures.baseTime.adding(seconds: Int64(k))
            )
        }
        try await collector.test { client throws in
            #expect(
                try await client.ingest(Fixtures.jsonArray(incidents), headers: collector.ingestHeaders()).status == .ok
            )
            let bySeverity = try await client.execute(
                uri: "/?sort=severity&limit=4",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(bySeverity.status == .ok)
            let html = bySeverity.text
            func order(_ html: String) -> [String] {
                html.split(separator: "<tr data-incident-id=\"").dropFirst().map { String($0.prefix(32)) }
            }
            // 9 (newer R5 first), 9, 7, 5 on the first page.
            #expect(order(html) == [5, 1, 3, 4].map { incidents[$0].incidentId.description })
            #expect(
                html.contains(
                    "<th aria-sort=\"descending\"><a href=\"/?limit=4&amp;sort=severity\">Severity ▼</a></th>"
                )
            )
            #expect(html.contains("<th><a href=\"/?limit=4\">Last seen</a></th>"))
            let next = try #require(
                html.split(separator: "<a rel=\"next\" href=\"/?").dropFirst().first?.prefix { $0 != "\"" }
            )
            #expect(next.contains("sort=severity&amp;cursor=5~"))
            let second = try await client.execute(
                uri: "/?" + String(next).replacing("&amp;", with: "&"),
                method: .get,
                headers: collector.readerBearer
            )
            #expect(order(second.text) == [0, 2].map { incidents[$0].incidentId.description })
            let byTime = try await client.execute(uri: "/", method: .get, headers: collector.readerBearer)
            #expect(order(byTime.text) == [5, 4, 3, 2, 1, 0].map { incidents[$0].incidentId.description })
            let bad = try await client.execute(uri: "/?sort=user", method: .get, headers: collector.readerBearer)
            #expect(bad.status == .badRequest)
            #expect(bad.errorReason == "parameter \"sort\": expected lastSeen or severity")
        }
    }

    @Test("the rule's author, a link to an http(s) source, any other source as text, technique links")
    func provenance() throws {
        var web = Self.incident(rule: 1, severity: 7, lastSeen: Fixtures.baseTime)
        web.ruleAuthor = "Jane <b>Doe</b>"
        web.ruleSource = "https://github.com/SigmaHQ/sigma/blob/master/rules/a.yml?x=1&y=\"2\""
        var script = Self.incident(rule: 2, severity: 7, lastSeen: Fixtures.baseTime)
        script.ruleSource = "javascript:alert(1)"
        var path = Self.incident(rule: 3, severity: 7, lastSeen: Fixtures.baseTime)
        path.ruleSource = "/etc/execwatch/rules.d/<x>.yml"
        path.techniques = ["T1059.004", "T1105", "t<1>"]
        let page = IncidentPage(
            incidents: [web, script, path].map {
                CollectedIncident(incident: $0, receivedFrom: "web-1", receivedAt: Fixtures.baseTime)
            },
            nextCursor: nil
        )
        let html = String(
            decoding: IncidentPageHTML.render(page, charts: nil, request: IncidentListRequest()),
            as: UTF8.self
        )
        #expect(html.contains("<span class=\"rule author\">by Jane &lt;b&gt;Doe&lt;/b&gt;</span>"))
        #expect(
            html.contains(
                "<a class=\"rule source\" rel=\"noopener noreferrer\" "
                    + "href=\"https://github.com/SigmaHQ/sigma/blob/master/rules/a.yml?x=1&amp;y=&quot;2&quot;\">rule source</a>"
            )
        )
        #expect(!html.contains("href=\"javascript"))
        #expect(html.contains("<span class=\"rule source\">source: javascript:alert(1)</span>"))
        #expect(html.contains("<span class=\"rule source\">source: /etc/execwatch/rules.d/&lt;x&gt;.yml</span>"))
        #expect(
            html.contains(
                "<a href=\"https://attack.mitre.org/techniques/T1059/004/\" rel=\"noopener noreferrer\">T1059.004</a>"
            )
        )
        #expect(
            html.contains(
                "<a href=\"https://attack.mitre.org/techniques/T1105/\" rel=\"noopener noreferrer\">T1105</a>"
            )
        )
        #expect(html.contains(" t&lt;1&gt;<br>"))
        #expect(PageLayout.isWebURL("HTTPS://example.org/a"))
        #expect(!PageLayout.isWebURL("https://example.org/a b"))
        #expect(!PageLayout.isWebURL("ftp://example.org/a"))
    }

    @Test("the incident page shows every trigger event's argv, paths, cwd, user and parent, escaped")
    func incidentPage() async throws {
        let collector = try await TestCollector.make()
        var incident = Self.incident(rule: 1, severity: 9, lastSeen: Fixtures.baseTime)
        incident.ruleAuthor = "Jane Doe"
        incident.ruleSource = "https://example.org/r.yml"
        var event = incident.triggerEvents[0]
        event.args = [Array("sh".utf8), Array("-c".utf8), Array("echo <script>alert(1)</script>".utf8)]
        event.cwd = "/tmp/<dir>"
        event.parentProcId = 4000
        event.parentProcName = "bash"
        event.parentExePath = "/usr/bin/bash"
        event.parentCommandLine = "bash -c \"x & y\""
        incident.triggerEvents = [event]
        let sent = incident
        try await collector.test { client throws in
            #expect(
                try await client.ingest(Fixtures.jsonArray([sent]), headers: collector.ingestHeaders()).status
                    == .ok
            )
            let response = try await client.execute(
                uri: "/incidents/\(sent.incidentId)",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(response.status == .ok)
            #expect(response.headers[.contentSecurityPolicy] == PageLayout.contentSecurityPolicy)
            let html = response.text
            #expect(!html.contains("<script>"))
            #expect(
                html.contains(
                    "<ol class=\"argv\" start=\"0\"><li><code>sh</code></li><li><code>-c</code></li>"
                        + "<li><code>echo &lt;script&gt;alert(1)&lt;/script&gt;</code></li></ol>"
                )
            )
            #expect(html.contains("<dt>exePath</dt><dd><code>/usr/bin/nc.openbsd</code></dd>"))
            #expect(html.contains("<dt>cwd</dt><dd><code>/tmp/&lt;dir&gt;</code></dd>"))
            #expect(html.contains("<dt>User</dt><dd><code>alice</code></dd>"))
            #expect(html.contains("<dt>parentProcName</dt><dd><code>bash</code></dd>"))
            #expect(html.contains("<dt>parentExePath</dt><dd><code>/usr/bin/bash</code></dd>"))
            #expect(html.contains("<dt>parentCommandLine</dt><dd><code>bash -c &quot;x &amp; y&quot;</code></dd>"))
            #expect(html.contains("by Jane Doe"))
            #expect(html.contains("href=\"https://example.org/r.yml\""))

            let list = try await client.execute(uri: "/", method: .get, headers: collector.readerBearer)
            #expect(list.text.contains("<a href=\"/incidents/\(sent.incidentId)\">Rule 1</a>"))

            let missing = try await client.execute(
                uri: "/incidents/0123456789abcdef0123456789abcdef",
                method: .get,
                headers: collector.readerBearer
            )
            #expect(missing.status == .notFound)
            #expect(missing.errorReason == "no incident 0123456789abcdef0123456789abcdef")
            let bad = try await client.execute(uri: "/incidents/nope", method: .get, headers: collector.readerBearer)
            #expect(bad.status == .badRequest)
            #expect(bad.errorReason == "incident id \"nope\": expected 32 hex digits")
            let anonymous = try await client.execute(uri: "/incidents/\(sent.incidentId)", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test("the front page has a chart by rule and one by host, one line per series, escaped")
    func charts() async throws {
        let collector = try await TestCollector.make()
        let now = EventTime.now
        var incidents: [Incident] = []
        for rule in 0..<12 {
            var incident = Self.incident(rule: rule, severity: 5, lastSeen: now)
            incident.firstSeen = now.adding(seconds: -Int64(rule) * 600)
            incidents.append(incident)
        }
        var hostile = Fixtures.incident(ruleId: "<script>x</script>", user: "bob", lastSeen: now)
        hostile.firstSeen = now
        incidents.append(hostile)
        let sent = incidents
        try await collector.test { client throws in
            #expect(
                try await client.ingest(Fixtures.jsonArray(sent), headers: collector.ingestHeaders()).status == .ok
            )
            let html = try await client.execute(uri: "/", method: .get, headers: collector.readerBearer).text
            #expect(html.contains("<figure class=\"chart\" data-series-of=\"rule\">"))
            #expect(html.contains("<figure class=\"chart\" data-series-of=\"host\">"))
            #expect(html.contains("New incidents by rule, per 1 h"))
            let ruleChart = try #require(html.split(separator: "data-series-of=\"host\"").first)
            let series = ruleChart.split(separator: "<g class=\"series\" data-key=\"").dropFirst().map {
                String($0.prefix { $0 != "\"" })
            }
            // Eight named (most incidents first, ties by key), the other five summed.
            #expect(series.count == 9)
            #expect(series.first == "&lt;script&gt;x&lt;/script&gt;")
            #expect(series.last == "")
            #expect(ruleChart.contains("<title>all others</title>"))
            #expect(!html.contains("<script>"))
            #expect(html.contains("<g class=\"series\" data-key=\"web-1\"><title>web-1</title>"))
        }
    }

    @Test("chart ranges: a day by default, since when given, never more than 24 buckets")
    func chartRanges() throws {
        let now = EventTime(rfc3339: "2026-11-28T12:00:00Z")!
        let (day, _) = IncidentPageHTML.chartQueries(for: IncidentListRequest(), now: now)
        #expect(day.buckets == 24)
        #expect(day.bucketMilliseconds == 3_600_000)
        #expect(day.endMilliseconds == now.millisecondsSinceEpoch + 1)
        let year = try IncidentListRequest(query: "since=365d&hostName=web-1", now: now)
        let (byRule, byHost) = IncidentPageHTML.chartQueries(for: year, now: now)
        #expect(byRule.buckets == 24)
        #expect(byRule.start.millisecondsSinceEpoch <= year.sinceTime!.millisecondsSinceEpoch)
        #expect(byHost.hostName == "web-1")
        #expect(byHost.series == .host)
        let minute = try IncidentListRequest(query: "since=30s", now: now)
        #expect(IncidentPageHTML.chartQueries(for: minute, now: now).0.bucketMilliseconds == 60_000)
    }
}
