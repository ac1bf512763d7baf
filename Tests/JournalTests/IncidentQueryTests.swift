import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

@Suite("Querying incidents")
struct IncidentQueryTests {
    /// alice (rule 23, lastSeen +0 s), bob (rule 23, +60 s), carol (rule 24, +120 s), dave (rule 24, +180 s).
    private func fill(_ journal: IncidentJournal) async throws {
        let rows: [(String, String, Int64)] = [
            ("alice", "PH_Rule_TH_Linux_23", 0), ("bob", "PH_Rule_TH_Linux_23", 60),
            ("carol", "PH_Rule_TH_Linux_24", 120), ("dave", "PH_Rule_TH_Linux_24", 180),
        ]
        for (group, rule, offset) in rows.shuffled() {
            try await journal.store(Sample.update(group: group, ruleId: rule, version: 1, lastSeenOffset: offset))
        }
    }

    private func users(_ incidents: [StoredIncident]) throws -> [String] {
        try incidents.map { try $0.incident().attribute("user")?.description ?? "?" }
    }

    @Test func newestFirstWithFilters() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await fill(journal)
            #expect(try users(await journal.incidents()) == ["dave", "carol", "bob", "alice"])
            #expect(try users(await journal.incidents(limit: 2)) == ["dave", "carol"])
            #expect(try users(await journal.incidents(limit: 0)) == [])
            #expect(try users(await journal.incidents(ruleId: "PH_Rule_TH_Linux_23")) == ["bob", "alice"])
            #expect(try users(await journal.incidents(ruleId: "nope")) == [])
            let since = Sample.firstSeen.adding(seconds: 60)
            #expect(try users(await journal.incidents(since: since)) == ["dave", "carol", "bob"])
            #expect(
                try users(await journal.incidents(since: since, ruleId: "PH_Rule_TH_Linux_24", limit: 1)) == ["dave"]
            )
            #expect(try users(await journal.incidents(since: since.adding(seconds: 1000))) == [])
        }
    }

    @Test func anUpdateMovesTheIncidentToTheTop() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await fill(journal)
            try await journal.store(Sample.update(group: "alice", version: 2, lastSeenOffset: 500))
            #expect(try users(await journal.incidents(limit: 1)) == ["alice"])
        }
    }
}
