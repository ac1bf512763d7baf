import CollectorStorage
import ExecEvents
import RuleEngine
import Testing

/// What the web page asks of a store: severity order, one incident by id, charts, and the rule's
/// author and source kept.
extension CollectorStoreTests {
    /// 5 severities × 4 rules × 3 hosts, lastSeen times that repeat, firstSeen spread over hours.
    private static func severityCorpus() -> [ReceivedIncident] {
        var incidents: [ReceivedIncident] = []
        for (s, severity) in [1, 3, 5, 7, 9].enumerated() {
            for rule in 0..<4 {
                for host in ["web-1", "web-2", "db-1"] {
                    var incident = Sample.incident(
                        group: "u\(s)",
                        ruleId: "R\(rule)",
                        host: host,
                        lastSeen: Sample.start.adding(seconds: Int64((s + rule) % 3) * 60)
                    )
                    incident.severity = severity
                    incident.firstSeen = Sample.start.adding(seconds: -Int64(rule) * 3600)
                    incidents.append(Sample.received(incident))
                }
            }
        }
        return incidents
    }

    private static func severityFirst(_ a: Incident, _ b: Incident) -> Bool {
        if a.severity != b.severity { return a.severity > b.severity }
        if a.lastSeen != b.lastSeen { return a.lastSeen > b.lastSeen }
        return a.incidentId > b.incidentId
    }

    @Test("sorted by severity, pages cover every incident once, with filters", arguments: StoreKind.allCases)
    func severityOrder(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let corpus = Self.severityCorpus()
                _ = try await store.upsert(corpus)
                for (hostName, pageSize) in [(nil, 7), (nil, 60), ("web-2", 3)] as [(String?, Int)] {
                    var query = IncidentQuery(hostName: hostName, limit: pageSize, sort: .severity)
                    var seen: [IncidentID] = []
                    while true {
                        let page = try await store.incidents(query)
                        seen += page.incidents.map(\.incident.incidentId)
                        guard let next = page.nextCursor else { break }
                        #expect(next.sort == .severity)
                        #expect(IncidentCursor(text: next.description) == next)
                        query.cursor = next
                    }
                    let expected = corpus.map(\.incident).filter { hostName == nil || $0.hostName == hostName }
                        .sorted(by: Self.severityFirst).map(\.incidentId)
                    #expect(seen == expected, "host \(hostName ?? "any"), page size \(pageSize)")
                }
            }
        }
    }

    @Test("one incident by id, with the rule's author and source", arguments: StoreKind.allCases)
    func incidentById(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                var incident = Sample.incident(group: "alice")
                incident.ruleAuthor = "Jane \"J\" Doe, \\ {x}"
                incident.ruleSource = "https://example.org/rules/a.yml"
                let other = Sample.received(group: "bob")
                _ = try await store.upsert([Sample.received(incident), other])
                let found = try await store.incident(incident.incidentId)
                #expect(found?.incident == incident)
                #expect(found?.receivedFrom == "agent-1")
                #expect(try await store.incident(IncidentID(high: 1, low: 2)) == nil)
                // An update without them drops them.
                var updated = incident
                updated.version = 2
                updated.ruleAuthor = nil
                updated.ruleSource = nil
                #expect(try await store.upsert([Sample.received(updated)]) == [.updated])
                #expect(try await store.incident(incident.incidentId)?.incident == updated)
            }
        }
    }

    @Test("charts count new incidents per bucket and series, the rest as others", arguments: StoreKind.allCases)
    func chart(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let corpus = Self.severityCorpus()
                _ = try await store.upsert(corpus)
                // Buckets of one hour ending after Sample.start: rule R<k> was first seen k hours before.
                let start = Sample.start.adding(seconds: -3 * 3600)
                let byRule = try await store.incidentChart(
                    IncidentChartQuery(
                        series: .rule,
                        start: start,
                        bucketMilliseconds: 3_600_000,
                        buckets: 4,
                        maximumSeries: 2
                    )
                )
                // 15 incidents per rule; ties broken by key: R0, R1 named, R2 and R3 the others.
                #expect(
                    byRule.series == [
                        IncidentChartSeries(key: "R0", counts: [0, 0, 0, 15]),
                        IncidentChartSeries(key: "R1", counts: [0, 0, 15, 0]),
                        IncidentChartSeries(key: nil, counts: [15, 15, 0, 0]),
                    ]
                )
                let byHost = try await store.incidentChart(
                    IncidentChartQuery(
                        series: .host,
                        start: start,
                        bucketMilliseconds: 3_600_000,
                        buckets: 4,
                        maximumSeries: 8,
                        ruleId: "R2"
                    )
                )
                #expect(
                    byHost.series == [
                        IncidentChartSeries(key: "db-1", counts: [0, 5, 0, 0]),
                        IncidentChartSeries(key: "web-1", counts: [0, 5, 0, 0]),
                        IncidentChartSeries(key: "web-2", counts: [0, 5, 0, 0]),
                    ]
                )
                // Outside the range: nothing.
                let later = try await store.incidentChart(
                    IncidentChartQuery(
                        series: .host,
                        start: Sample.start.adding(seconds: 3600),
                        bucketMilliseconds: 60_000,
                        buckets: 10
                    )
                )
                #expect(later.series == [])
            }
        }
    }
}
