import CollectorStorage
import ExecEvents
import RuleEngine
import Testing

extension CollectorStoreTests {
    @Test("created, updated, unchanged: one outcome per incident, in order", arguments: StoreKind.allCases)
    func outcomes(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                #expect(try await store.upsert([]) == [])
                #expect(
                    try await store.upsert([Sample.received(group: "a"), Sample.received(group: "b")])
                        == [.created, .created]
                )
                // Retried: nothing new.
                #expect(
                    try await store.upsert([Sample.received(group: "a"), Sample.received(group: "b")])
                        == [.unchanged, .unchanged]
                )
                let outcomes = try await store.upsert([
                    Sample.received(group: "a", version: 2),  // higher: updated
                    Sample.received(group: "a", version: 2),  // duplicate in the batch
                    Sample.received(group: "b", version: 1),  // what the store has
                    Sample.received(group: "a", version: 1),  // lower after higher
                    Sample.received(group: "c", version: 3),  // new
                    Sample.received(group: "c", version: 1),  // lower, same batch
                    Sample.received(group: "c", version: 4),  // higher, same batch
                    Sample.received(group: "d", version: 5),  // new, then its duplicate
                    Sample.received(group: "d", version: 5),
                ])
                #expect(
                    outcomes == [
                        .updated, .unchanged, .unchanged, .unchanged, .created, .unchanged, .updated, .created,
                        .unchanged,
                    ]
                )
                #expect(try await store.upsert([Sample.received(group: "a", version: 1)]) == [.unchanged])
                #expect(try await store.incidentCount() == 4)

                let versions = try await store.allIncidents().reduce(into: [String: Int64]()) {
                    $0[$1.incident.attribute("user")?.description ?? "?"] = $1.incident.version
                }
                #expect(versions == ["a": 2, "b": 1, "c": 4, "d": 5])
            }
        }
    }

    @Test("the highest version wins, with who sent it and when", arguments: StoreKind.allCases)
    func highestVersionWins(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let v3 = Sample.received(Sample.incident(version: 3), from: "agent-late", at: 30)
                let v2 = Sample.received(Sample.incident(version: 2), from: "agent-early", at: 20)
                let v4 = Sample.received(Sample.incident(version: 4), from: "agent-last", at: 40)
                #expect(try await store.upsert([v3]) == [.created])
                #expect(try await store.upsert([v2]) == [.unchanged])

                let stored = try #require(try await store.stored(v3.incident.incidentId))
                // Every field, trigger events included, as sent.
                #expect(
                    stored
                        == CollectedIncident(
                            incident: v3.incident,
                            receivedFrom: "agent-late",
                            receivedAt: v3.receivedAt
                        )
                )

                #expect(try await store.upsert([v4, v2]) == [.updated, .unchanged])
                let latest = try #require(try await store.stored(v3.incident.incidentId))
                #expect(
                    latest
                        == CollectedIncident(
                            incident: v4.incident,
                            receivedFrom: "agent-last",
                            receivedAt: v4.receivedAt
                        )
                )
                #expect(try await store.incidentCount() == 1)
            }
        }
    }
}
