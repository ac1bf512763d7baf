import ExecEvents
import RuleEngine
import Testing

/// Sigma correlation rules (`event_count`, `value_count`) on the engine's sliding window, and the
/// correlation documents refused at load with their place (temporal ones: SigmaCorrelationTemporalTests).
@Suite struct SigmaCorrelationTests {
    static let base = """
        title: whoami ran
        id: aaaaaaaa-0000-0000-0000-000000000001
        name: whoami_run
        logsource:
            category: process_creation
            product: linux
        detection:
            sel:
                Image|endswith: '/whoami'
            condition: sel
        """

    static func correlation(_ body: String, generate: String = "") -> String {
        """
        title: whoami again and again
        id: cccccccc-0000-0000-0000-000000000001
        author: Test Author
        level: high
        \(generate)correlation:
        \(body)
        """
    }

    static let eventCount = correlation(
        """
            type: event_count
            rules:
                - whoami_run
            group-by:
                - User
            timespan: 1m
            condition:
                gte: 3
        """
    )

    private func load(_ files: [(String, String)]) -> RuleLoadResult {
        RuleLoader.load(documents: files.map { ($0.0, Array($0.1.utf8)) })
    }

    private func whoami(_ user: String, at second: Int64, args: [String] = ["whoami"]) -> ExecEvent {
        var e = processEvent(image: "/usr/bin/whoami", commandLine: args, user: user)
        e.eventTime = EventTime(millisecondsSinceEpoch: 1_700_000_000_000 + second * 1000)
        return e
    }

    @Test func eventCountFiresAtTheThresholdPerGroupWithinTheTimespan() throws {
        let result = load([("base.yml", Self.base), ("corr.yml", Self.eventCount)])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let correlation = try #require(result.rules.first { $0.id == "cccccccc-0000-0000-0000-000000000001" })
        #expect(correlation.name == "whoami again and again" && correlation.severity == 7)
        #expect(correlation.author == "Test Author" && correlation.windowSeconds == 60)
        // The rule it names raises no incidents of its own (generate defaults to false).
        #expect(result.rules.first { $0.id == "aaaaaaaa-0000-0000-0000-000000000001" }?.isActive == false)
        var e = engine(result.rules)
        #expect(e.process(whoami("alice", at: 0)).isEmpty)
        #expect(e.process(whoami("alice", at: 10)).isEmpty)
        #expect(e.process(whoami("bob", at: 20)).isEmpty)  // another group
        let third = e.process(whoami("alice", at: 30)).map(\.incident)
        #expect(third.map(\.ruleId) == ["cccccccc-0000-0000-0000-000000000001"])
        #expect(third.first?.ruleAuthor == "Test Author")
        // Long after: the window slid past alice's earlier events, one event is not three.
        #expect(e.process(whoami("alice", at: 500)).isEmpty)
        // An event the referenced rule does not match counts nothing.
        var other = processEvent(image: "/usr/bin/id", user: "bob")
        other.eventTime = EventTime(millisecondsSinceEpoch: 1_700_000_000_000 + 25_000)
        #expect(e.process(other).isEmpty)
    }

    @Test func valueCountCountsDistinctValues() throws {
        let rule = Self.correlation(
            """
                type: value_count
                rules: aaaaaaaa-0000-0000-0000-000000000001
                group-by: User
                timespan: 5m
                condition:
                    field: CommandLine
                    gt: 1
            """
        )
        let result = load([("all.yml", Self.base + "\n---\n" + rule)])
        #expect(result.errors.isEmpty, "\(result.errors)")
        var e = engine(result.rules)
        #expect(e.process(whoami("alice", at: 0)).isEmpty)
        #expect(e.process(whoami("alice", at: 1)).isEmpty)  // the same command line again
        let second = e.process(whoami("alice", at: 2, args: ["whoami", "--help"])).map(\.incident.ruleId)
        #expect(second == ["cccccccc-0000-0000-0000-000000000001"])
    }

    @Test func generateTrueKeepsTheReferencedRulesIncidents() throws {
        let result = load([
            ("base.yml", Self.base),
            ("corr.yml", Self.eventCount.replacingAll("correlation:", "generate: true\ncorrelation:")),
        ])
        #expect(result.errors.isEmpty, "\(result.errors)")
        var e = engine(result.rules)
        #expect(e.process(whoami("alice", at: 0)).map(\.incident.ruleId) == ["aaaaaaaa-0000-0000-0000-000000000001"])
    }

    @Test func badCorrelationsAreRefusedNamingPlaceAndConstruct() throws {
        let cases: [(String, String, String)] = [
            (
                "type: temporal\n    rules: whoami_run\n    timespan: 1m\n    condition:\n        gte: 2",
                "corr.yml:10:9", "condition 'gte: 2' can never hold"
            ),
            ("type: sum\n    rules: whoami_run\n    timespan: 1m", "corr.yml:6:11", "unknown correlation type 'sum'"),
            (
                "type: event_count\n    rules: nosuch\n    timespan: 1m\n    condition:\n        gte: 2",
                "corr.yml:7:12", "no loaded Sigma process_creation rule has the name or id 'nosuch'"
            ),
            (
                "type: event_count\n    rules: whoami_run\n    condition:\n        gte: 2", "corr.yml:6:5",
                "expected 'timespan'"
            ),
            (
                "type: event_count\n    rules: whoami_run\n    timespan: 5y\n    condition:\n        gte: 2",
                "corr.yml:8:15", "expected a timespan such as 30s"
            ),
            (
                "type: event_count\n    rules: whoami_run\n    timespan: 1m\n    condition:\n        lt: 2",
                "corr.yml:10:9", "condition 'lt' is not supported"
            ),
            (
                "type: value_count\n    rules: whoami_run\n    timespan: 1m\n    condition:\n        gte: 2",
                "corr.yml:10:9", "expected 'field' in a value_count condition"
            ),
            (
                "type: event_count\n    rules: whoami_run\n    group-by: Hashes\n    timespan: 1m\n    condition:\n        gte: 2",
                "corr.yml:8:15", "unknown field 'Hashes' in 'group-by'"
            ),
        ]
        for (body, place, message) in cases {
            let result = load([("base.yml", Self.base), ("corr.yml", Self.correlation("    " + body))])
            let error = try #require(result.errors.first, "accepted: \(body)")
            #expect("\(error.file):\(error.line):\(error.column)" == place, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            // the rule beside it still loads, and stays active when no correlation took it
            #expect(result.rules.map(\.id) == ["aaaaaaaa-0000-0000-0000-000000000001"])
            #expect(result.rules.first?.isActive == true)
        }
    }
}
