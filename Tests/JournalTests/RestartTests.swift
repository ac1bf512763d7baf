import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Reading incidents back after a restart")
struct RestartTests {
    @Test func reopenedJournalHoldsExactlyWhatWasStored() async throws {
        let directory = try TemporaryDirectory()
        let latest = [
            Sample.update(group: "alice", version: 3).incident,
            Sample.update(group: "bob", version: 1).incident,
            Sample.update(group: "carol", ruleId: "PH_Rule_TH_Linux_24", version: 2).incident,
        ]
        let outboxBefore = try await IncidentJournal.with(directory.path) { journal in
            for version in Int64(1)...3 { try await journal.store(Sample.update(group: "alice", version: version)) }
            try await journal.store(Sample.update(group: "bob", version: 1))
            try await journal.store([
                Sample.update(group: "carol", ruleId: "PH_Rule_TH_Linux_24", version: 1),
                Sample.update(group: "carol", ruleId: "PH_Rule_TH_Linux_24", version: 2),
            ])
            return try await journal.pendingOutbox(limit: 100)
        }

        try await IncidentJournal.with(directory.path) { journal in
            let stored = try await journal.incidents()
            #expect(stored.count == latest.count)
            for incident in latest {
                let row = try #require(stored.first { $0.incidentId == incident.incidentId })
                // Byte for byte the JSON Incident.writeJSON wrote…
                #expect(Array(row.json.utf8) == Array(incident.jsonLine.utf8))
                #expect(row.ruleId == incident.ruleId)
                #expect(row.hostName == incident.hostName)
                #expect(row.firstSeen == incident.firstSeen)
                #expect(row.lastSeen == incident.lastSeen)
                #expect(row.count == incident.count)
                #expect(row.version == incident.version)
                // …and, read back, the same incident, field by field.
                let back = try row.incident()
                #expect(back.count == incident.count)
                #expect(back.version == incident.version)
                #expect(back.firstSeen == incident.firstSeen)
                #expect(back.lastSeen == incident.lastSeen)
                #expect(back.attributes == incident.attributes)
                #expect(back.triggerEvents == incident.triggerEvents)
                #expect(back == incident)
            }
            // What the engine gets back: every incident, oldest lastSeen first.
            let restorable = try await journal.restorableIncidents()
            #expect(restorable.map(\.lastSeen) == restorable.map(\.lastSeen).sorted())
            #expect(Set(restorable.map(\.incidentId)) == Set(latest.map(\.incidentId)))
            for incident in restorable { #expect(latest.contains(incident)) }
            #expect(try await journal.restorableIncidents(limit: 1).map(\.incidentId) == [latest[0].incidentId])
            // The outbox is intact too.
            #expect(try await journal.pendingOutbox(limit: 100) == outboxBefore)
        }
    }

    @Test func incidentJSONReadsBackExactly() throws {
        var incident = Sample.incident(count: 12, version: 7, lastSeenOffset: 3600)
        incident.attributes.append(IncidentAttribute(name: "note", value: .string("tab\t \"quoted\" é ☕ \u{01}")))
        incident.triggerEvents.append(ExecEvent(eventTime: EventTime(millisecondsSinceEpoch: 0), hostName: "other"))
        let text = incident.jsonLine
        let back = try Incident(jsonText: text)
        #expect(back == incident)
        #expect(back.jsonLine == text)
        // The event without procName and swParam but with args stays without them.
        #expect(back.triggerEvents[2].procName == nil)
        #expect(back.triggerEvents[2].swParam == nil)
        #expect(back.triggerEvents[1].args?[2] == [0xFF, 0xFE])
    }

    @Test func incidentJSONErrorsNameTheField() {
        let text = Sample.incident().jsonLine
        let broken = text.replacingOccurrences(of: "\"version\":1", with: "\"version\":\"1\"")
        #expect(throws: IncidentJSONError(field: "version", reason: "expected an integer")) {
            try Incident(jsonText: broken)
        }
        #expect(throws: IncidentJSONError.self) { try Incident(jsonText: "{") }
        #expect(throws: IncidentJSONError(field: "incidentId", reason: "missing")) { try Incident(jsonText: "{}") }
    }

    /// The whole path: the shipped netcat rule raises an incident, the journal keeps it, a new
    /// engine gets it back, and the next netcat run updates it instead of creating it again.
    @Test func aRestoredEngineContinuesTheIncident() async throws {
        let loaded = RuleLoader.load(paths: [shippedNetcatRule()])
        #expect(loaded.errors.isEmpty)
        let configuration = EngineConfiguration(agentId: "web-1")
        let event = ExecEvent(
            eventTime: Sample.firstSeen,
            hostName: "web-1",
            user: "alice",
            procName: "nc",
            swParam: "-lvp 4444",
            args: [Array("nc".utf8), Array("-lvp".utf8), Array("4444".utf8)]
        )
        let directory = try TemporaryDirectory()

        var before = DetectionEngine(rules: loaded.rules, configuration: configuration)
        let first = before.process(event) + before.process(event.advanced(by: 400))
        #expect(first.map(\.kind) == [.created, .updated])
        try await IncidentJournal.with(directory.path) { journal in try await journal.store(first) }

        var after = DetectionEngine(rules: loaded.rules, configuration: configuration)
        let restored = try await IncidentJournal.with(directory.path) { journal in
            try await journal.restorableIncidents()
        }
        #expect(restored == [first[1].incident])
        for incident in restored { after.restore(incident) }
        let next = after.process(event.advanced(by: 800))
        #expect(next.map(\.kind) == [.updated])
        #expect(next.first?.incident.version == 3)
        #expect(next.first?.incident.count == 3)
        #expect(next.first?.incident.firstSeen == Sample.firstSeen)
        #expect(next.first?.incident.incidentId == first[0].incident.incidentId)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
