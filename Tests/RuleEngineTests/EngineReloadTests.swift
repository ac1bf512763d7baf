import ExecEvents
import RuleEngine
import Testing

@Suite struct EngineReloadTests {
    @Test func unchangedRulesKeepTheirWindowsAndChangedOnesStartOver() throws {
        let keep = rule(id: "Keep", filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2")
        let change = rule(id: "Change", filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2")
        var e = engine([keep, change])
        #expect(e.process(exec(at: 0)).isEmpty)
        #expect(e.counters.groupsLive == 2)

        let changed = rule(id: "Change", filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2", window: "600")
        let added = rule(id: "New", filter: #"procName = "nc""#)
        let summary = e.replaceRules([keep, changed, added])
        #expect(summary.unchanged == ["Keep"])
        #expect(summary.changed == ["Change"])
        #expect(summary.added == ["New"])
        #expect(summary.removed.isEmpty)
        #expect(e.counters.groupsLive == 1)  // only Keep's group survived

        let updates = e.process(exec(at: 1))
        #expect(updates.map(\.incident.ruleId) == ["Keep", "New"])  // Change lost its first event
        #expect(updates.first?.incident.count == 2)

        let removal = e.replaceRules([keep])
        #expect(removal.removed == ["Change", "New"])
        #expect(e.rules.map(\.id) == ["Keep"])
    }

    @Test func reloadingTheSameRuleFileKeepsWindows() throws {
        let xml =
            "<Rules>\n" + ruleXML(id: "Same", filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2") + "\n</Rules>"
        let load = { RuleDocument.parse(xml, file: "same.xml").rules }
        var e = engine(load())
        _ = e.process(exec(at: 0))
        let summary = e.replaceRules(load())
        #expect(summary.unchanged == ["Same"])
        #expect(e.process(exec(at: 1)).first?.incident.count == 2)
    }
}
