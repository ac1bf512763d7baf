import ExecEvents
import RuleEngine
import Testing

/// Sigma `temporal` and `temporal_ordered` correlations: every referenced rule (or as many as the
/// condition asks) matched by one group within the timespan, in order for `temporal_ordered`;
/// `aliases`; and the documents refused at load with their place.
@Suite struct SigmaCorrelationTemporalTests {
    static func detection(_ name: String, _ number: Int, _ selection: String) -> String {
        """
        title: \(name) ran
        id: aaaaaaaa-0000-0000-0000-00000000000\(number)
        name: \(name)
        logsource:
            category: process_creation
            product: linux
        detection:
            sel:
                \(selection)
            condition: sel
        """
    }

    /// Three rules: whoami (…01), id (…02), uname (…03); and `--help` anywhere (…04).
    static let bases = [
        detection("whoami_run", 1, "Image|endswith: '/whoami'"),
        detection("id_run", 2, "Image|endswith: '/id'"),
        detection("uname_run", 3, "Image|endswith: '/uname'"),
        detection("help_run", 4, "CommandLine|contains: '--help'"),
    ].joined(separator: "\n---\n")

    static let correlationId = "cccccccc-0000-0000-0000-000000000002"

    /// A correlation document; its `correlation:` key is on line 5, `body` starts on line 6.
    static func correlation(_ body: String) -> String {
        """
        title: recon by one user
        id: \(correlationId)
        author: Test Author
        level: high
        correlation:
        \(body)
        """
    }

    private func load(_ correlationText: String) -> RuleLoadResult {
        RuleLoader.load(documents: [
            ("base.yml", Array(Self.bases.utf8)), ("corr.yml", Array(correlationText.utf8)),
        ])
    }

    private func run(
        _ program: String,
        _ user: String,
        at second: Int64,
        args: [String]? = nil,
        pid: Int64 = 4242,
        parentPid: Int64 = 1
    ) -> ExecEvent {
        var e = processEvent(image: "/usr/bin/" + program, commandLine: args ?? [program], user: user, pid: pid)
        e.parentProcId = parentPid
        e.eventTime = EventTime(millisecondsSinceEpoch: 1_700_000_000_000 + second * 1000)
        return e
    }

    private func ruleIds(_ updates: [IncidentUpdate]) -> [String] { updates.map(\.incident.ruleId) }

    @Test func temporalFiresWhenEveryRuleMatchedWithinTheTimespanPerGroup() throws {
        let result = load(
            Self.correlation(
                """
                    type: temporal
                    rules:
                        - whoami_run
                        - id_run
                        - aaaaaaaa-0000-0000-0000-000000000003
                    group-by:
                        - User
                    timespan: 1m
                """
            )
        )
        #expect(result.errors.isEmpty, "\(result.errors)")
        let rule = try #require(result.rules.first { $0.id == Self.correlationId })
        #expect(rule.aggregate.description == "COUNT(DISTINCT sigmaRule) >= 3")
        // The rules it names raise nothing of their own (generate defaults to false); help_run does.
        #expect(
            result.rules.filter(\.isActive).map(\.id) == ["aaaaaaaa-0000-0000-0000-000000000004", Self.correlationId]
        )
        var e = engine(result.rules)
        #expect(e.process(run("whoami", "alice", at: 0)).isEmpty)
        #expect(e.process(run("id", "alice", at: 10)).isEmpty)
        #expect(e.process(run("uname", "bob", at: 20)).isEmpty)  // another group
        #expect(e.process(run("whoami", "alice", at: 30)).isEmpty)  // the same rule again is not a third
        let fired = e.process(run("uname", "alice", at: 40))
        #expect(ruleIds(fired) == [Self.correlationId])
        let incident = try #require(fired.first?.incident)
        #expect(incident.count == 4 && incident.version == 1)  // the four matches in the window
        #expect(incident.firstSeen == EventTime(millisecondsSinceEpoch: 1_700_000_000_000))
        #expect(incident.severity == 7 && incident.ruleAuthor == "Test Author")
        #expect(incident.attributes.map(\.name) == ["hostName", "user"])
        #expect(incident.attributes.last?.value == .string("alice"))
        #expect(incident.triggerEvents.map { $0.procName ?? "" } == ["whoami", "id", "whoami", "uname"])
        // A later match in the window is counted into the same incident.
        let later = e.process(run("id", "alice", at: 50))
        #expect(later.map(\.kind) == [.updated] && later.first?.incident.count == 5)
        #expect(later.first?.incident.version == 2 && later.first?.incident.incidentId == incident.incidentId)

        // carol: the window slides past her whoami before uname comes; a new whoami completes it.
        #expect(e.process(run("whoami", "carol", at: 100)).isEmpty)
        #expect(e.process(run("id", "carol", at: 130)).isEmpty)
        #expect(e.process(run("uname", "carol", at: 161)).isEmpty)
        #expect(ruleIds(e.process(run("whoami", "carol", at: 170))) == [Self.correlationId])
        // bob never ran id: nothing.
        #expect(e.process(run("whoami", "bob", at: 25)).isEmpty)
    }

    @Test func anEventMatchingTwoRulesCountsForBoth() throws {
        let result = load(
            Self.correlation(
                "    type: temporal\n    rules:\n        - whoami_run\n        - help_run\n    group-by: User\n    timespan: 1m"
            )
        )
        #expect(result.errors.isEmpty, "\(result.errors)")
        var e = engine(result.rules)
        #expect(e.process(run("whoami", "alice", at: 0)).isEmpty)
        let both = e.process(run("whoami", "bob", at: 1, args: ["whoami", "--help"]))
        #expect(ruleIds(both) == [Self.correlationId])
        #expect(both.first?.incident.count == 2)  // one event, two rule matches
        #expect(both.first?.incident.triggerEvents.count == 1)
    }

    @Test func temporalConditionCountsDistinctRules() throws {
        let result = load(
            Self.correlation(
                """
                    type: temporal
                    rules: [whoami_run, id_run, uname_run]
                    group-by: User
                    timespan: 5m
                    condition:
                        gte: 2
                """
            )
        )
        #expect(result.errors.isEmpty, "\(result.errors)")
        var e = engine(result.rules)
        #expect(e.process(run("whoami", "alice", at: 0)).isEmpty)
        #expect(e.process(run("whoami", "alice", at: 1)).isEmpty)  // one rule twice is one rule
        #expect(ruleIds(e.process(run("uname", "alice", at: 2))) == [Self.correlationId])
    }

    @Test func temporalOrderedNeedsTheRulesInTheirOrder() throws {
        let result = load(
            Self.correlation(
                """
                    type: temporal_ordered
                    rules:
                        - whoami_run
                        - id_run
                        - uname_run
                    group-by:
                        - User
                    timespan: 1m
                """
            )
        )
        #expect(result.errors.isEmpty, "\(result.errors)")
        var e = engine(result.rules)
        // alice: uname and id come before whoami: all three rules, out of order.
        #expect(e.process(run("uname", "alice", at: 0)).isEmpty)
        #expect(e.process(run("id", "alice", at: 5)).isEmpty)
        #expect(e.process(run("whoami", "alice", at: 10)).isEmpty)
        #expect(e.process(run("uname", "alice", at: 15)).isEmpty)  // whoami, uname: id missing between
        #expect(e.process(run("id", "alice", at: 20)).isEmpty)  // whoami, id; uname only before
        let fired = e.process(run("uname", "alice", at: 25))  // whoami 10, id 20, uname 25
        #expect(ruleIds(fired) == [Self.correlationId])
        #expect(fired.first?.incident.count == 6)
        // bob: in order, but the window slid past whoami before uname.
        #expect(e.process(run("whoami", "bob", at: 0)).isEmpty)
        #expect(e.process(run("id", "bob", at: 30)).isEmpty)
        #expect(e.process(run("uname", "bob", at: 60)).isEmpty)
        // carol: events in one millisecond count as in order, whatever order they arrive in.
        #expect(e.process(run("id", "carol", at: 100)).isEmpty)
        #expect(e.process(run("whoami", "carol", at: 100)).isEmpty)
        #expect(ruleIds(e.process(run("uname", "carol", at: 101))) == [Self.correlationId])
    }

    @Test func aliasesGroupEachRulesEventsByItsOwnField() throws {
        // whoami, then an id its child: whoami's ProcessId is id's ParentProcessId.
        let result = load(
            Self.correlation(
                """
                    type: temporal_ordered
                    rules:
                        - whoami_run
                        - id_run
                    group-by:
                        - process
                    timespan: 1m
                    aliases:
                        process:
                            whoami_run: ProcessId
                            aaaaaaaa-0000-0000-0000-000000000002: ParentProcessId
                """
            )
        )
        #expect(result.errors.isEmpty, "\(result.errors)")
        var e = engine(result.rules)
        #expect(e.process(run("whoami", "alice", at: 0, pid: 500)).isEmpty)
        #expect(e.process(run("id", "alice", at: 1, pid: 601, parentPid: 501)).isEmpty)  // another process's child
        #expect(e.process(run("id", "alice", at: 2, pid: 500, parentPid: 1)).isEmpty)  // the same pid is not the child
        let fired = e.process(run("id", "bob", at: 3, pid: 602, parentPid: 500))
        #expect(ruleIds(fired) == [Self.correlationId])
        let incident = try #require(fired.first?.incident)
        #expect(incident.attributes.map(\.name) == ["hostName", "process"])
        #expect(incident.attributes.last?.value == .integer(500))
        #expect(incident.count == 2)
    }

    @Test func aReloadKeepsAnUnchangedCorrelationsWindowAndSeesOrderAsAChange() throws {
        let body = "    type: temporal\n    rules: [whoami_run, id_run]\n    group-by: User\n    timespan: 1m"
        let temporal = load(Self.correlation(body)).rules
        var e = engine(temporal)
        #expect(e.process(run("whoami", "alice", at: 0)).isEmpty)
        let same = e.replaceRules(load(Self.correlation(body)).rules)
        #expect(same.unchanged.contains(Self.correlationId) && same.changed.isEmpty, "\(same)")
        #expect(ruleIds(e.process(run("id", "alice", at: 1))) == [Self.correlationId])  // whoami was kept
        let ordered = load(Self.correlation(body.replacingAll("temporal", "temporal_ordered"))).rules
        #expect(e.replaceRules(ordered).changed == [Self.correlationId])
    }

    @Test func badTemporalCorrelationsAreRefusedNamingPlaceAndConstruct() throws {
        let aliasBody = { (sources: String) in
            "    type: temporal\n    rules:\n        - whoami_run\n        - id_run\n    group-by: process\n"
                + "    timespan: 1m\n    aliases:\n        process:\n" + sources
        }
        let cases: [(String, String, String)] = [
            (
                "    type: temporal\n    rules: [whoami_run, id_run]\n    timespan: 1m\n    condition:\n        gte: 3",
                "corr.yml:10:9",
                "condition 'gte: 3' can never hold: a temporal correlation counts the distinct rules matched, and this one names 2"
            ),
            (
                "    type: temporal_ordered\n    rules: [whoami_run, id_run]\n    timespan: 1m\n    condition:\n        gt: 0",
                "corr.yml:10:9",
                "condition 'gt: 0' is not supported: a temporal_ordered correlation needs all 2 rules in their order"
            ),
            (
                "    type: temporal\n    rules: [whoami_run, id_run]\n    timespan: 1m\n    condition:\n        eq: 2",
                "corr.yml:10:9", "condition 'eq' is not supported"
            ),
            (
                "    type: temporal\n    rules: [whoami_run, id_run, whoami_run]\n    timespan: 1m", "corr.yml:7:33",
                "rule 'whoami_run' is named twice in 'rules'"
            ),
            (
                "    type: temporal\n    rules: [whoami_run, aaaaaaaa-0000-0000-0000-000000000001]\n    timespan: 1m",
                "corr.yml:7:25",
                "correlation \(Self.correlationId): rule 'aaaaaaaa-0000-0000-0000-000000000001' is named twice in 'rules' (by name and by id)"
            ),
            (
                "    type: temporal\n    rules: [whoami_run, nosuch]\n    timespan: 1m", "corr.yml:7:25",
                "no loaded Sigma process_creation rule has the name or id 'nosuch'"
            ),
            ("    type: temporal\n    timespan: 1m", "corr.yml:6:5", "expected 'rules' in 'correlation'"),
            ("    type: temporal\n    rules: [whoami_run, id_run]", "corr.yml:6:5", "expected 'timespan'"),
            (
                "    type: temporal\n    rules: [whoami_run, id_run]\n    timespan: 90", "corr.yml:8:15",
                "expected a timespan such as 30s"
            ),
            (
                "    type: event_count\n    rules: whoami_run\n    group-by: process\n    timespan: 1m\n"
                    + "    aliases:\n        process:\n            whoami_run: ProcessId\n    condition:\n        gte: 2",
                "corr.yml:11:9",
                "'aliases' is supported on temporal and temporal_ordered correlations, not on event_count"
            ),
            (
                aliasBody(
                    "            whoami_run: ProcessId\n            id_run: ParentProcessId\n            nosuch: User"
                ),
                "corr.yml:16:13",
                "alias 'process' names rule 'nosuch', which is not one of the correlation's rules"
            ),
            (
                aliasBody("            whoami_run: ProcessId"), "corr.yml:13:9",
                "alias 'process' gives no field for rule 'id_run': each rule the correlation names needs one"
            ),
            (
                aliasBody("            whoami_run: ProcessId\n            id_run: Hashes"), "corr.yml:15:21",
                "unknown field 'Hashes' in alias 'process' for rule 'id_run'"
            ),
            (
                aliasBody("            whoami_run: ProcessId\n            id_run: ParentProcessId").replacingAll(
                    "process",
                    "User"
                ),
                "corr.yml:13:9", "alias 'User' has the name of a Sigma field"
            ),
            (
                aliasBody("            whoami_run: ProcessId\n            id_run: ParentProcessId").replacingAll(
                    "process",
                    "hostName"
                ),
                "corr.yml:13:9", "alias 'hostName' has the name of an event attribute"
            ),
            (
                aliasBody("            - whoami_run"), "corr.yml:14:13",
                "expected a mapping of rule name to field for alias 'process'"
            ),
        ]
        for (body, place, message) in cases {
            let result = load(Self.correlation(body))
            let error = try #require(result.errors.first, "accepted: \(body)")
            #expect(result.errors.count == 1, "\(result.errors)")
            #expect("\(error.file):\(error.line):\(error.column)" == place, "\(body): \(error)")
            #expect(error.message.contains(message), "\(error)")
            // the rules beside it still load, and stay active when no correlation took them
            #expect(result.rules.count == 4 && result.rules.allSatisfy(\.isActive), "\(result.rules.map(\.id))")
        }
    }

    @Test func aCorrelationOfACorrelationIsRefusedAsSuch() throws {
        let inner = """
            title: whoami thrice
            id: cccccccc-0000-0000-0000-000000000009
            name: whoami_thrice
            correlation:
                type: event_count
                rules: whoami_run
                timespan: 1m
                condition:
                    gte: 3
            """
        let outer = Self.correlation("    type: temporal\n    rules: [whoami_thrice, id_run]\n    timespan: 1m")
        let result = load(inner + "\n---\n" + outer)
        let error = try #require(result.errors.first)
        #expect(error.description.hasPrefix("corr.yml:17:13: correlation \(Self.correlationId): "), "\(error)")
        #expect(
            error.message.hasSuffix(
                "'whoami_thrice' is a correlation rule: correlations of correlations are not supported (name Sigma process_creation rules)"
            ),
            "\(error)"
        )
        #expect(result.rules.contains { $0.id == "cccccccc-0000-0000-0000-000000000009" })
    }
}
