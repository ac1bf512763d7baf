import ExecEvents
import RuleEngine
import Testing

/// Escapes text for XML character data.
func xmlEscaped(_ text: String) -> String {
    text.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;")
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// One `<Rule>` element in FortiSIEM's layout; filter and aggregate are given unescaped.
func ruleXML(
    id: String = "R1",
    name: String = "Test rule",
    filter: String,
    groupBy: String = "hostName",
    aggregate: String = "COUNT(*) >= 1",
    window: String = "300",
    argList: String = "hostName = Filter.hostName",
    severity: String = "5",
    active: String = "true"
) -> String {
    """
      <Rule group="G" id="\(id)" phIncidentCategory="Server" function="Security" subFunction="Execution" technique="T1059.004">
        <Name>\(name)</Name>
        <active>\(active)</active>
        <Description>d</Description>
        <IncidentDef eventType="PH_RULE_\(id)" severity="\(severity)">
          <ArgList>\(argList)</ArgList>
        </IncidentDef>
        <PatternClause window="\(window)">
          <SubPattern displayName="Filter" name="Filter">
            <SingleEvtConstr>\(xmlEscaped(filter))</SingleEvtConstr>
            <GroupByAttr>\(groupBy)</GroupByAttr>
            <GroupEvtConstr>\(xmlEscaped(aggregate))</GroupEvtConstr>
          </SubPattern>
        </PatternClause>
      </Rule>
    """
}

/// Parses `<Rules>` around the given rule elements; fails the test on any error.
func rules(_ elements: String..., sourceLocation: SourceLocation = #_sourceLocation) -> [Rule] {
    let result = RuleDocument.parse("<Rules>\n" + elements.joined(separator: "\n") + "\n</Rules>\n", file: "test.xml")
    #expect(result.errors.isEmpty, "unexpected errors: \(result.errors)", sourceLocation: sourceLocation)
    return result.rules
}

/// A rule from a filter and optional settings.
func rule(
    id: String = "R1",
    filter: String,
    groupBy: String = "hostName",
    aggregate: String = "COUNT(*) >= 1",
    window: String = "300",
    argList: String = "hostName = Filter.hostName",
    sourceLocation: SourceLocation = #_sourceLocation
) -> Rule {
    let parsed = rules(
        ruleXML(id: id, filter: filter, groupBy: groupBy, aggregate: aggregate, window: window, argList: argList),
        sourceLocation: sourceLocation
    )
    return parsed[0]
}

/// An exec event at `seconds` (plus `ms`) since the epoch.
func exec(
    at seconds: Int64,
    ms: Int64 = 0,
    host: String = "web-1",
    user: String? = "alice",
    proc: String? = "nc",
    args: String? = "-l 4444",
    procId: Int64? = 100,
    extra: [String: AttributeValue] = [:]
) -> ExecEvent {
    ExecEvent(
        eventTime: EventTime(seconds: seconds, milliseconds: ms),
        hostName: host,
        user: user,
        procName: proc,
        swParam: args,
        procId: procId,
        parentProcId: 1,
        parentProcName: "bash",
        exePath: proc.map { "/usr/bin/" + $0 },
        uid: 1000,
        extra: extra
    )
}

func engine(_ rules: [Rule], agentId: String = "agent-1", maxLiveGroups: Int = 1000) -> DetectionEngine {
    DetectionEngine(rules: rules, configuration: EngineConfiguration(agentId: agentId, maxLiveGroups: maxLiveGroups))
}

/// Compiles a filter, failing the test when it does not compile.
func filter(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> FilterExpression? {
    do {
        return try FilterExpression(text)
    } catch {
        Issue.record("filter \(text) did not compile: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func matches(_ text: String, _ event: ExecEvent, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    filter(text, sourceLocation: sourceLocation)?.matches(event) ?? false
}
