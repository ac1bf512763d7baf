import ExecEvents
import RuleEngine
import Testing

@Suite struct EngineIndexTests {
    @Test func rulesThatCannotMatchAreNotEvaluated() throws {
        var all: [String] = []
        for k in 0..<50 {  // 50 rules each for one program name
            all.append(
                ruleXML(
                    id: "P\(k)",
                    filter: #"eventType = "LINUX_PROCESS_EXEC" AND procName IN ("prog\#(k)", "Alias\#(k)")"#
                )
            )
        }
        all.append(ruleXML(id: "OtherType", filter: #"eventType = "WIN_LOGON" AND user = "alice""#))
        // No eventType/procName constraint: always evaluated.
        all.append(ruleXML(id: "Any", filter: #"user = "alice""#))
        var e = engine(rules(all.joined(separator: "\n")))

        let updates = e.process(exec(at: 0, proc: "PROG7"))
        #expect(e.counters.filterEvaluations == 2)  // P7 and Any
        #expect(updates.map(\.incident.ruleId) == ["P7", "Any"])

        _ = e.process(exec(at: 1, proc: "alias42"))
        #expect(e.counters.filterEvaluations == 4)  // P42 and Any
        _ = e.process(exec(at: 2, proc: "bash"))
        #expect(e.counters.filterEvaluations == 5)  // Any only
        _ = e.process(exec(at: 3, proc: nil))
        #expect(e.counters.filterEvaluations == 6)

        var windows = exec(at: 4, proc: "prog1")
        windows.eventType = "win_logon"
        _ = e.process(windows)
        #expect(e.counters.filterEvaluations == 8)  // OtherType (case-insensitive) and Any
    }

    @Test func rulesWithoutIndexableConstraintsAreAlwaysCandidates() {
        let parsed = rules(
            ruleXML(id: "Or", filter: #"procName = "nc" OR procName = "ncat""#),
            ruleXML(id: "Regex", filter: #"procName REGEXP "^nc""#),
            ruleXML(id: "Nested", filter: #"(eventType = "LINUX_PROCESS_EXEC" AND procName = "nc") AND user = "alice""#)
        )
        var e = engine(parsed)
        let updates = e.process(exec(at: 0, proc: "nc"))
        #expect(updates.map(\.incident.ruleId) == ["Or", "Regex", "Nested"])
        _ = e.process(exec(at: 1, proc: "bash"))
        #expect(e.counters.filterEvaluations == 5)  // Or, Regex always; Nested only for nc
    }

    /// What a source may deliver at once (the eBPF probe wakes the agent for these): the programs
    /// rules are filed under by `procName` or by `Image`, folded to lower case; not the parent's
    /// programs, nothing for rules filed under "any". Follows a rule reload.
    @Test func namedProgramsAreThoseRulesAreFiledUnder() throws {
        let netcat = ruleXML(id: "N", filter: #"eventType = "LINUX_PROCESS_EXEC" AND procName IN ("nc", "NCat")"#)
        let any = ruleXML(id: "Any", filter: #"user = "alice""#)
        let wget = try sigmaRule(id: "wget", "    sel:\n        Image|endswith: '/Wget'\n    condition: sel")
        let sshd = try sigmaRule(id: "sshd", "    sel:\n        ParentImage|endswith: '/sshd'\n    condition: sel")
        var e = engine(rules(netcat, any) + [wget, sshd])
        #expect(e.namedPrograms == ["nc", "ncat", "wget"])
        e.replaceRules(rules(any) + [sshd])
        #expect(e.namedPrograms.isEmpty)
        e.replaceRules([wget])
        #expect(e.namedPrograms == ["wget"])
    }

    @Test func mayMatchAgreesWithTheIndex() {
        let onlyNetcat = engine(
            rules(ruleXML(id: "N", filter: #"eventType = "LINUX_PROCESS_EXEC" AND procName IN ("nc", "ncat")"#))
        )
        #expect(onlyNetcat.mayMatch(exec(at: 0, proc: "NC")))
        #expect(onlyNetcat.mayMatch(exec(at: 0, proc: "ncat")))
        #expect(!onlyNetcat.mayMatch(exec(at: 0, proc: "bash")))
        #expect(!onlyNetcat.mayMatch(exec(at: 0, proc: nil)))
        var other = exec(at: 0, proc: "nc")
        other.eventType = "LINUX_FILE_OPEN"
        #expect(!onlyNetcat.mayMatch(other))
        // A rule the index cannot narrow makes every event a candidate.
        let catchAll = engine(rules(ruleXML(id: "U", filter: #"user = "alice""#)))
        #expect(catchAll.mayMatch(exec(at: 0, proc: "bash")))
    }

    /// Whether every exec may match: exactly when a rule for execs is filed under "any" or under
    /// a parent's program name (a probe has no parent); then ``mayMatch`` holds for each.
    @Test func mayMatchEveryExecWhenARuleNamesNoProgramOfItsOwn() throws {
        let netcat = ruleXML(id: "N", filter: #"eventType = "LINUX_PROCESS_EXEC" AND procName IN ("nc", "ncat")"#)
        let otherType = ruleXML(id: "O", filter: #"eventType = "WIN_LOGON" AND user = "alice""#)
        let anyExec = ruleXML(id: "A", filter: #"eventType = "LINUX_PROCESS_EXEC" AND user = "alice""#)
        let any = ruleXML(id: "U", filter: #"user = "alice""#)
        let wget = try sigmaRule(id: "wget", "    sel:\n        Image|endswith: '/wget'\n    condition: sel")
        let sshd = try sigmaRule(id: "sshd", "    sel:\n        ParentImage|endswith: '/sshd'\n    condition: sel")
        let curl = try sigmaRule(id: "curl", "    sel:\n        CommandLine|contains: 'curl '\n    condition: sel")
        let cases: [(rules: [Rule], every: Bool)] = [
            (rules(netcat), false),
            (rules(netcat, otherType), false),
            ([wget], false),
            (rules(netcat) + [wget], false),
            (rules(netcat, anyExec), true),
            (rules(any), true),
            ([sshd], true),
            ([curl], true),  // guarded, but filed under "any"
            (rules(netcat) + [wget, curl], true),
        ]
        let probes = [
            exec(at: 0, proc: "bash"), exec(at: 0, proc: nil), exec(at: 0, proc: "nc"), exec(at: 0, proc: "WGET"),
        ]
        for (k, c) in cases.enumerated() {
            let e = engine(c.rules)
            #expect(e.mayMatchEveryExec == c.every, "case \(k)")
            if e.mayMatchEveryExec {
                for probe in probes { #expect(e.mayMatch(probe), "case \(k)") }
            } else {
                #expect(!e.mayMatch(exec(at: 0, proc: "bash")), "case \(k)")
            }
        }
    }
}
