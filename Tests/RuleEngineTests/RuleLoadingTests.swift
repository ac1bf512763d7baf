import ExecEvents
import RuleEngine
import Testing

@Suite struct RuleLoadingTests {
    /// A file whose lines are numbered for the position checks below.
    private func document(filter: String, window: String = #"window="300""#, extra: String = "") -> String {
        // line 1: <Rules>
        // line 2:   <Rule id="R1" function="Security">
        // line 3:     <Name>n</Name>
        // line 4:     <IncidentDef eventType="T" severity="5"><ArgList>hostName = Filter.hostName</ArgList></IncidentDef>
        // line 5:     <PatternClause \(window)>
        // line 6:       <SubPattern name="Filter">
        // line 7:         <SingleEvtConstr>FILTER</SingleEvtConstr>      (filter text starts at column 26)
        """
        <Rules>
          <Rule id="R1" function="Security">
            <Name>n</Name>
            <IncidentDef eventType="T" severity="5"><ArgList>hostName = Filter.hostName</ArgList></IncidentDef>
            <PatternClause \(window)>
              <SubPattern name="Filter">
                <SingleEvtConstr>\(filter)</SingleEvtConstr>
                <GroupByAttr>hostName</GroupByAttr>
                <GroupEvtConstr>COUNT(*) &gt;= 1</GroupEvtConstr>
              </SubPattern>\(extra)
            </PatternClause>
          </Rule>
        </Rules>
        """
    }

    private func onlyError(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) -> RuleError? {
        let result = RuleDocument.parse(xml, file: "rules/bad.xml")
        #expect(result.rules.isEmpty, sourceLocation: sourceLocation)
        #expect(result.errors.count == 1, "\(result.errors)", sourceLocation: sourceLocation)
        return result.errors.first
    }

    @Test func unknownOperatorIsReportedAtItsPositionInTheFile() throws {
        let e = try #require(onlyError(document(filter: #"procName LIKE "nc""#)))
        #expect(e.file == "rules/bad.xml")
        #expect((e.line, e.column) == (7, 35))
        #expect(e.message.hasPrefix("unknown operator 'LIKE'"))
        #expect(e.ruleId == "R1")
        #expect(e.description.hasPrefix("rules/bad.xml:7:35: unknown operator 'LIKE'"))
    }

    @Test func positionsAccountForEntitiesBeforeTheBadToken() throws {
        // "procId &lt; 5 AND " is 18 source characters but 15 decoded ones.
        let e = try #require(onlyError(document(filter: #"procId &lt; 5 AND &quot;x&quot; = procName"#)))
        #expect((e.line, e.column) == (7, 44))
        #expect(e.message.hasPrefix("expected an attribute name"))
    }

    @Test func unterminatedStringPointsAtItsQuote() throws {
        let e = try #require(onlyError(document(filter: #"procName = "nc"#)))
        #expect((e.line, e.column) == (7, 37))
        #expect(e.message.hasPrefix("unterminated string"))
    }

    @Test func badRegexIsARuleError() throws {
        let e = try #require(onlyError(document(filter: #"procName REGEXP "[a-""#)))
        #expect((e.line, e.column) == (7, 42))
        #expect(e.message.hasPrefix("invalid regular expression \"[a-\""))
    }

    @Test func missingWindow() throws {
        let e = try #require(onlyError(document(filter: #"procName = "nc""#, window: #"id="1""#)))
        #expect((e.line, e.column) == (5, 5))
        #expect(e.message == #"expected attribute window="300" on <PatternClause>"#)
        let bad = try #require(onlyError(document(filter: #"procName = "nc""#, window: #"window="5m""#)))
        #expect((bad.line, bad.column) == (5, 28))
        #expect(bad.message.hasPrefix("expected a positive number of seconds"))
    }

    @Test(arguments: ["9223372036854775807", "315360001", "99999999999999999999", "0", "-5"])
    func windowsBeyondTenYearsAreRuleErrorsNotOverflows(seconds: String) throws {
        // window * 1000 used to overflow at the first matching event.
        let e = try #require(onlyError(document(filter: #"procName = "nc""#, window: "window=\"\(seconds)\"")))
        #expect((e.line, e.column) == (5, 28))
        #expect(e.message.hasPrefix("expected a positive number of seconds up to 315360000"))
    }

    @Test func multiSubpatternRulesAreRejectedAtTheSecondSubPattern() throws {
        let second = "\n      <SubPattern name=\"Second\"><SingleEvtConstr>user = \"x\"</SingleEvtConstr></SubPattern>"
        let e = try #require(onlyError(document(filter: #"procName = "nc""#, extra: second)))
        #expect((e.line, e.column) == (11, 7))
        #expect(e.message.hasPrefix("multi-subpattern rules are not supported"))
    }

    @Test func malformedXMLIsOneErrorForTheFile() throws {
        let e = try #require(onlyError("<Rules>\n  <Rule id=\"R1\"\n    <Name>n</Name>\n</Rules>"))
        #expect((e.line, e.column) == (3, 5))
        #expect(e.message == "expected '>' to close <Rule>")
    }

    @Test func errorsInAggregatesAndGroupByArePositioned() throws {
        let xml = rules_(ruleXML(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= lots"))
        let e = try #require(onlyError(xml))
        // Line 13 of the helper's layout: `        <GroupEvtConstr>COUNT(*) &gt;= lots</GroupEvtConstr>`
        #expect((e.line, e.column) == (13, 40))
        #expect(e.message.hasPrefix("expected a number"))
        let groupBy = try #require(onlyError(rules_(ruleXML(filter: #"procName = "nc""#, groupBy: "hostName, 9lives"))))
        #expect((groupBy.line, groupBy.column) == (12, 32))
        let argList = try #require(
            onlyError(rules_(ruleXML(filter: #"procName = "nc""#, argList: "user = Other.user")))
        )
        #expect((argList.line, argList.column) == (7, 16))
        #expect(argList.message.hasPrefix("<ArgList> refers to sub-pattern Other"))
    }

    private func rules_(_ element: String) -> String { "<Rules>\n" + element + "\n</Rules>" }

    @Test func goodRulesLoadNextToABadOne() {
        let xml = rules_(
            [
                ruleXML(id: "A", filter: #"procName = "nc""#),
                ruleXML(id: "B", filter: #"procName LIKE "nc""#),
                ruleXML(id: "C", filter: #"user = "root""#),
            ].joined(separator: "\n")
        )
        let result = RuleDocument.parse(xml, file: "mixed.xml")
        #expect(result.rules.map(\.id) == ["A", "C"])
        #expect(result.errors.map(\.ruleId) == ["B"])
    }

    @Test func aSingleRuleRootIsAccepted() {
        let result = RuleDocument.parse(ruleXML(id: "Solo", filter: #"procName = "nc""#), file: "solo.xml")
        #expect(result.errors.isEmpty)
        #expect(result.rules.map(\.id) == ["Solo"])
        let other = RuleDocument.parse("<Reports/>", file: "r.xml")
        #expect(other.errors.first?.message == "expected <Rules> or <Rule> as the root element, found <Reports>")
    }

    @Test func duplicateIdsAreAnErrorAndTheFirstWins() {
        let first = Array(rules_(ruleXML(id: "D", name: "first", filter: #"procName = "nc""#)).utf8)
        let second = Array(rules_(ruleXML(id: "D", name: "second", filter: #"procName = "nc""#)).utf8)
        let result = RuleLoader.load(documents: [("one.xml", first), ("two.xml", second)])
        #expect(result.rules.map(\.name) == ["first"])
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.file == "two.xml")
        #expect((result.errors.first?.line, result.errors.first?.column) == (2, 3))
        #expect(result.errors.first?.message.hasPrefix("duplicate rule id D: already defined at one.xml:2:3") == true)
    }

    @Test func fieldsAreReadFromTheirElementsAndAttributes() throws {
        let r = rule(
            filter: #"eventType = "LINUX_PROCESS_EXEC""#,
            groupBy: "hostName , user",
            aggregate: "COUNT(*) >= 2",
            window: "60",
            argList: "hostName = Filter.hostName, who = Filter.user"
        )
        #expect(r.id == "R1")
        #expect(r.name == "Test rule")
        #expect(r.description == "d")
        #expect(r.isActive)
        #expect(r.group == "G")
        #expect(r.severity == 5)
        #expect(r.category == "Security")
        #expect(r.impacts == "Server")
        #expect(r.tactics == ["Execution"])
        #expect(r.techniques == ["T1059.004"])
        #expect(r.incidentType == "PH_RULE_R1")
        #expect(r.windowSeconds == 60)
        #expect(r.subPatternName == "Filter")
        #expect(r.groupBy == [.hostName, .user])
        #expect(r.aggregate.description == "COUNT(*) >= 2")
        #expect(
            r.incidentAttributes == [
                IncidentAttributeMapping(name: "hostName", subPattern: "Filter", attribute: .hostName),
                IncidentAttributeMapping(name: "who", subPattern: "Filter", attribute: .user),
            ]
        )
        #expect(r.location == RuleLocation(file: "test.xml", line: 2, column: 3))
    }

    @Test func loaderReadsDirectoriesOfXMLFilesInOrderAndReportsMissingPaths() throws {
        let directory = try TemporaryDirectory()
        try directory.createFile("b.xml", rules_(ruleXML(id: "B", filter: #"procName = "nc""#)))
        try directory.createFile("a.xml", rules_(ruleXML(id: "A", filter: #"procName = "nc""#)))
        try directory.createFile("notes.txt", "not a rule")
        let result = RuleLoader.load(paths: [directory.path, directory.path + "/missing.xml"])
        #expect(result.rules.map(\.id) == ["A", "B"])
        #expect(result.rules.first?.location.file == directory.path + "/a.xml")
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.file == directory.path + "/missing.xml")
        #expect(result.errors.first?.message.hasPrefix("cannot read") == true)
    }
}

/// Attributes no source produces load (a FortiSIEM rule may name them) but are warned about with
/// their position, so a misspelt `procNam` does not silently never match.
@Suite struct UnproducedAttributeWarningTests {
    /// Line 7 holds the filter, line 8 the group-by, line 9 the aggregate, line 4 the ArgList.
    private func document(filter: String, groupBy: String = "hostName", aggregate: String = "COUNT(*)") -> String {
        """
        <Rules>
          <Rule id="R1" function="Security">
            <Name>n</Name>
            <IncidentDef eventType="T" severity="5"><ArgList>hostName = Filter.hostNme</ArgList></IncidentDef>
            <PatternClause window="300">
              <SubPattern name="Filter">
                <SingleEvtConstr>\(filter)</SingleEvtConstr>
                <GroupByAttr>\(groupBy)</GroupByAttr>
                <GroupEvtConstr>\(aggregate) &gt;= 1</GroupEvtConstr>
              </SubPattern>
            </PatternClause>
          </Rule>
        </Rules>
        """
    }

    @Test func aMisspeltAttributeIsAWarningAtItsPositionWithTheNearestName() throws {
        let result = RuleDocument.parse(
            document(
                filter: #"eventType = "LINUX_PROCESS_EXEC" AND procNam IN ("nc")"#,
                groupBy: "hostName, usr",
                aggregate: "COUNT(DISTINCT swParm)"
            ),
            file: "rules/typo.xml"
        )
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.rules.map(\.id) == ["R1"])
        let warnings = result.warnings.map { "\($0.line):\($0.column) \($0.message)" }
        #expect(
            warnings == [
                #"7:63 no source produces attribute "procNam": events never carry it; did you mean "procName"?"#,
                #"8:32 no source produces attribute "usr": events never carry it; did you mean "user"?"#,
                #"9:40 no source produces attribute "swParm": events never carry it; did you mean "swParam"?"#,
                #"4:72 no source produces attribute "hostNme": events never carry it; did you mean "hostName"?"#,
            ]
        )
        #expect(result.warnings.allSatisfy { $0.file == "rules/typo.xml" && $0.ruleId == "R1" })
        #expect(result.warnings[0].positionedText("warning").hasPrefix("rules/typo.xml:7:63: warning: no source"))
    }

    @Test func anAttributeOfAnotherEventTypeIsWarnedAboutWithoutAGuess() throws {
        let result = RuleDocument.parse(document(filter: #"reptDevIpAddr = "10.0.0.1""#), file: "r.xml")
        #expect(result.rules.count == 1)
        let messages = result.warnings.map(\.message)
        #expect(messages.first == #"no source produces attribute "reptDevIpAddr": events never carry it"#)
    }

    @Test func theShippedRuleAndEveryKnownAttributeGiveNoWarning() throws {
        let filter = EventAttribute.known.map { "\($0.name) IS NOT NULL" }.joined(separator: " AND ")
        let known = RuleDocument.parse("<Rules>\n\(ruleXML(filter: filter))\n</Rules>\n", file: "k.xml")
        #expect(known.errors.isEmpty && known.warnings.isEmpty, "\(known.errors) \(known.warnings)")
        let shipped = RuleLoader.load(paths: [NetcatRuleTests.rulesDirectory])
        #expect(!shipped.rules.isEmpty && shipped.errors.isEmpty)
        #expect(shipped.warnings.isEmpty, "\(shipped.warnings)")
    }
}
