import CollectorStorage
import ExecEvents
import RuleEngine
import Testing

extension CollectorStoreTests {
    /// Two collectors (two independent stores: their own connections, as two processes would
    /// have) receive the same 500 incidents, each version 1…3, in their own shuffled order, in
    /// batches of 50 from three tasks each.
    @Test("two collectors storing the same incidents at once", arguments: StoreKind.allCases)
    func concurrentCollectors(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            let first = try await location.open()
            let second = try await location.open()
            let versions: [ReceivedIncident] = (0..<500).flatMap { user in
                (1...3).map { Sample.received(group: "user\(user)", version: Int64($0)) }
            }

            let results = try await withThrowingTaskGroup(of: [(ReceivedIncident, UpsertOutcome)].self) { group in
                for (collector, store) in [("first", first), ("second", second)] {
                    let batches = Self.batches(of: versions.shuffled(), size: 50)
                    for worker in 0..<3 {
                        group.addTask {
                            var results: [(ReceivedIncident, UpsertOutcome)] = []
                            for batch in stride(from: worker, to: batches.count, by: 3).map({ batches[$0] }) {
                                let sent = batch.map {
                                    ReceivedIncident(
                                        incident: $0.incident,
                                        receivedFrom: collector,
                                        receivedAt: $0.receivedAt
                                    )
                                }
                                let outcomes = try await store.upsert(sent)
                                try #require(outcomes.count == sent.count)
                                results += zip(sent, outcomes).map { ($0, $1) }
                            }
                            return results
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            try await second.close()

            #expect(results.count == 3000)
            #expect(try await first.incidentCount() == 500)
            let stored = try await first.allIncidents(pageSize: 97)
            #expect(stored.count == 500)
            #expect(Set(stored.map(\.incident.incidentId)).count == 500)
            #expect(stored.allSatisfy { $0.incident.version == 3 })
            #expect(
                stored.allSatisfy {
                    $0
                        == CollectedIncident(
                            incident: $0.incident,
                            receivedFrom: $0.receivedFrom,
                            receivedAt: Sample.received(group: "x").receivedAt
                        )
                }
            )

            // Exact outcomes: each incident created once, and version 3 stored once (the other
            // collector's copy of it is unchanged).
            let byIncident = Dictionary(grouping: results) { $0.0.incident.incidentId }
            #expect(byIncident.count == 500)
            for (id, outcomes) in byIncident {
                #expect(outcomes.count { $0.1 == .created } == 1, "\(id)")
                #expect(outcomes.count { $0.0.incident.version == 3 && $0.1 != .unchanged } == 1, "\(id)")
                #expect(outcomes.count { $0.1 != .unchanged } <= 3, "\(id)")
            }
            try await first.close()
        }
    }

    private static func batches(of incidents: [ReceivedIncident], size: Int) -> [[ReceivedIncident]] {
        stride(from: 0, to: incidents.count, by: size).map { Array(incidents[$0..<min($0 + size, incidents.count)]) }
    }
}
