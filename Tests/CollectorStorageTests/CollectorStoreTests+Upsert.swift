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

extension CollectorStoreTests {
    @Test(
        "an incident id stored for another host is never overwritten: the whole batch is refused",
        arguments: StoreKind.allCases
    )
    func foreignIncident(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { (store) async throws -> Void in
                let theirs = Sample.received(Sample.incident(group: "root", host: "db-1"), from: "db-1")
                #expect(try await store.upsert([theirs]) == [.created])
                var forged = Sample.incident(group: "alice", host: "web-1", version: 99)
                forged.incidentId = theirs.incident.incidentId
                let refused = CollectorStoreError.foreignIncident(
                    index: 1,
                    incidentId: forged.incidentId,
                    storedHostName: "db-1"
                )
                let fresh = Sample.received(group: "bob", host: "web-1", from: "web-1")
                await #expect(throws: refused) {
                    try await store.upsert([fresh, Sample.received(forged, from: "web-1")])
                }
                #expect(try await store.allIncidents() == [CollectedIncident(theirs)])

                // Batches stored at the same time (SQLite commits them together): only the
                // refused one is lost.
                let other = Sample.received(group: "carol", host: "web-1", from: "web-1")
                let forgedBatch = [fresh, Sample.received(forged, from: "web-1")]
                let good = Task { try await store.upsert([other]) }
                let bad = Task { try await store.upsert(forgedBatch) }
                #expect(try await good.value == [.created])
                await #expect(throws: refused) { try await bad.value }
                #expect(try await store.incidentCount() == 2)
                #expect(try await store.stored(theirs.incident.incidentId) == CollectedIncident(theirs))
                #expect(try await store.stored(fresh.incident.incidentId) == nil)
            }
        }
    }
}

extension CollectedIncident {
    /// What a store holds after storing `received`.
    init(_ received: ReceivedIncident) {
        self.init(incident: received.incident, receivedFrom: received.receivedFrom, receivedAt: received.receivedAt)
    }
}
