import CollectorStorage
import ExecEvents
import RuleEngine
import Testing

extension CollectorStoreTests {
    /// 60 incidents: 3 hosts × 2 rules × 10 users, with lastSeen times that repeat (ties are
    /// broken by incident id).
    private static func corpus() -> [ReceivedIncident] {
        var incidents: [ReceivedIncident] = []
        for host in ["web-1", "web-2", "db-1"] {
            for rule in [Sample.netcat, "PH_Rule_TH_Linux_24"] {
                for user in 0..<10 {
                    let lastSeen = Sample.start.adding(seconds: Int64(user % 4) * 60)
                    let incident = Sample.incident(group: "user\(user)", ruleId: rule, host: host, lastSeen: lastSeen)
                    incidents.append(Sample.received(incident))
                }
            }
        }
        return incidents
    }

    /// Newest lastSeen first, then incident id descending.
    private static func newestFirst(_ a: Incident, _ b: Incident) -> Bool {
        a.lastSeen != b.lastSeen ? a.lastSeen > b.lastSeen : a.incidentId > b.incidentId
    }

    @Test("filters by host, rule and time", arguments: StoreKind.allCases)
    func filters(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let corpus = Self.corpus()
                _ = try await store.upsert(corpus)
                #expect(try await store.incidentCount() == 60)

                func ids(_ query: IncidentQuery) async throws -> [IncidentID] {
                    try await store.allIncidents(query).map(\.incident.incidentId)
                }
                func expected(_ keep: (Incident) -> Bool) -> [IncidentID] {
                    corpus.map(\.incident).filter(keep).sorted(by: Self.newestFirst).map(\.incidentId)
                }
                let since = Sample.start.adding(seconds: 120)
                #expect(try await ids(IncidentQuery()) == expected { _ in true })
                #expect(try await ids(IncidentQuery(hostName: "web-2")) == expected { $0.hostName == "web-2" })
                #expect(try await ids(IncidentQuery(ruleId: Sample.netcat)) == expected { $0.ruleId == Sample.netcat })
                #expect(try await ids(IncidentQuery(since: since)) == expected { $0.lastSeen >= since })
                #expect(
                    try await ids(IncidentQuery(hostName: "db-1", ruleId: "PH_Rule_TH_Linux_24", since: since))
                        == expected {
                            $0.hostName == "db-1" && $0.ruleId == "PH_Rule_TH_Linux_24" && $0.lastSeen >= since
                        }
                )
                #expect(try await ids(IncidentQuery(hostName: "nobody")) == [])
                #expect(
                    try await store.incidents(IncidentQuery(limit: 0)) == IncidentPage(incidents: [], nextCursor: nil)
                )
            }
        }
    }

    @Test("pages cover every incident exactly once, newest first", arguments: StoreKind.allCases)
    func pagination(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let corpus = Self.corpus()
                _ = try await store.upsert(Array(corpus[..<30]))
                _ = try await store.upsert(Array(corpus[30...]))
                let expected = corpus.map(\.incident).sorted(by: Self.newestFirst).map(\.incidentId)

                for pageSize in [1, 7, 30, 59, 60, 61] {
                    var seen: [IncidentID] = []
                    var query = IncidentQuery(limit: pageSize)
                    var pages = 0
                    while true {
                        let page = try await store.incidents(query)
                        pages += 1
                        #expect(page.incidents.count <= pageSize)
                        seen += page.incidents.map(\.incident.incidentId)
                        guard let next = page.nextCursor else { break }
                        #expect(page.incidents.count == pageSize)
                        // The cursor survives its text form (`cursor=` in the API).
                        #expect(IncidentCursor(text: next.description) == next)
                        query.cursor = next
                    }
                    #expect(seen == expected, "page size \(pageSize)")
                    #expect(pages == (60 + pageSize - 1) / pageSize, "page size \(pageSize)")
                }

                // With a filter: the cursor keeps to it.
                var query = IncidentQuery(hostName: "web-1", limit: 4)
                var seen: [IncidentID] = []
                while true {
                    let page = try await store.incidents(query)
                    seen += page.incidents.map(\.incident.incidentId)
                    guard let next = page.nextCursor else { break }
                    query.cursor = next
                }
                #expect(
                    seen
                        == corpus.map(\.incident).filter { $0.hostName == "web-1" }.sorted(by: Self.newestFirst).map(
                            \.incidentId
                        )
                )
            }
        }
    }
}
