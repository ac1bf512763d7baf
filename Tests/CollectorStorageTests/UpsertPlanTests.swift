import ExecEvents
import RuleEngine
import Testing

@testable import CollectorStorage

@Suite("Upsert plan")
struct UpsertPlanTests {
    private func row(_ group: String, _ version: Int64) -> IncidentRow {
        IncidentRow(Sample.received(group: group, version: version))
    }

    private func stored(_ version: Int64, host: String = "web-1") -> StoredIncidentVersion {
        StoredIncidentVersion(version: version, hostName: host)
    }

    @Test("a batch applies in order against the stored versions")
    func outcomes() throws {
        let a = row("a", 1).id
        let batch = [row("a", 2), row("a", 3), row("a", 3), row("b", 1), row("b", 2), row("c", 1), row("c", 1)]
        let plan = try UpsertPlan(batch: batch, stored: [a: stored(2), row("c", 1).id: stored(5)])
        #expect(plan.outcomes == [.unchanged, .updated, .unchanged, .created, .updated, .unchanged, .unchanged])
        #expect(plan.writes.map(\.version).sorted() == [2, 3])
        #expect(plan.writes.map(\.id) == plan.writes.map(\.id).sorted())
    }

    @Test("a row with the id of another host's incident refuses the batch, naming the row")
    func foreignIncident() {
        let a = row("a", 1)
        #expect(throws: CollectorStoreError.foreignIncident(index: 1, incidentId: a.id, storedHostName: "db-1")) {
            try UpsertPlan(batch: [row("b", 1), row("a", 7)], stored: [a.id: stored(1, host: "db-1")])
        }
        // Within one batch too: the first row of an id decides its host.
        var other = row("a", 2)
        other.hostName = "db-1"
        #expect(throws: CollectorStoreError.foreignIncident(index: 1, incidentId: a.id, storedHostName: "web-1")) {
            try UpsertPlan(batch: [a, other], stored: [:])
        }
    }

    @Test("only the highest version of an incident is written: the first of equal ones")
    func highestVersions() {
        let first = IncidentRow(Sample.received(Sample.incident(group: "a", version: 4), from: "first"))
        let second = IncidentRow(Sample.received(Sample.incident(group: "a", version: 4), from: "second"))
        let written = UpsertPlan.highestVersions(of: [row("a", 1), first, row("a", 2), second])
        #expect(written.count == 1)
        #expect(written.first?.receivedFrom == "first")
    }

    @Test("the indexed columns come from the incident")
    func columns() {
        let row = row("alice", 7)
        #expect(row.idText.count == 32)
        #expect(row.version == 7)
        #expect(row.userName == "alice")
        #expect(row.procName == "nc")
        #expect(row.hostName == "web-1")
        #expect(row.lastSeen == Sample.start.adding(seconds: 70).millisecondsSinceEpoch)
        #expect((try? Incident(jsonText: row.json)) == Sample.incident(group: "alice", version: 7))
    }
}
