import ExecEvents
import RuleEngine
import Testing

/// A Sigma rule around a `detection` block (given indented by four spaces under `detection:`).
func sigmaRule(
    _ detection: String,
    extra: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Rule {
    let result = SigmaRuleDocument.parse(sigmaText(detection, extra: extra), file: "test.yml")
    #expect(result.errors.isEmpty, "unexpected errors: \(result.errors)", sourceLocation: sourceLocation)
    return try #require(result.rules.first, sourceLocation: sourceLocation)
}

/// A Sigma rule with its own `id` (an engine's incidents and counters tell the rules apart).
func sigmaRule(
    id: String,
    _ detection: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Rule {
    let text = sigmaText(detection).replacingAll("11111111-2222-3333-4444-555555555555", id)
    let result = SigmaRuleDocument.parse(text, file: "\(id).yml")
    #expect(result.errors.isEmpty, "unexpected errors: \(result.errors)", sourceLocation: sourceLocation)
    return try #require(result.rules.first, sourceLocation: sourceLocation)
}

func sigmaText(_ detection: String, extra: String = "") -> String {
    """
    title: Test rule
    id: 11111111-2222-3333-4444-555555555555
    author: Jane Doe
    level: high
    tags:
        - attack.execution
        - attack.command-and-control
        - attack.t1059.004
        - attack.g0032
    logsource:
        category: process_creation
        product: linux
    detection:
    \(detection)
    \(extra)
    """
}

/// The first error of a Sigma document.
func sigmaError(
    _ detection: String,
    extra: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) -> RuleError? {
    let result = SigmaRuleDocument.parse(sigmaText(detection, extra: extra), file: "test.yml")
    #expect(result.rules.isEmpty, "expected the rule to be refused", sourceLocation: sourceLocation)
    return result.errors.first
}

/// An exec event with the Sigma fields set.
func processEvent(
    image: String? = "/usr/bin/true",
    invoked: String? = nil,
    commandLine: [String]? = ["true"],
    parentImage: String? = nil,
    parentCommandLine: String? = nil,
    user: String? = "alice",
    cwd: String? = "/home/alice",
    auid: Int64? = 1000,
    pid: Int64? = 4242
) -> ExecEvent {
    ExecEvent(
        eventTime: EventTime(millisecondsSinceEpoch: 1_700_000_000_000),
        hostName: "host1",
        user: user,
        procName: image.map { String($0.split(separator: "/").last ?? "") },
        swParam: commandLine.map { $0.dropFirst().joined(separator: " ") },
        procId: pid,
        parentProcId: 1,
        parentExePath: parentImage,
        parentCommandLine: parentCommandLine,
        invokedPath: invoked,
        exePath: image,
        cwd: cwd,
        auid: auid,
        args: commandLine.map { ArgumentVector($0.map(\.utf8)) }
    )
}

@Suite struct SigmaRuleMetadataTests {
    @Test func metadataBecomesTheRulesIncidentFacts() throws {
        let rule = try sigmaRule("    selection:\n        Image|endswith: '/nc'\n    condition: selection")
        #expect(rule.id == "11111111-2222-3333-4444-555555555555")
        #expect(rule.name == "Test rule")
        #expect(rule.severity == 7)
        #expect(rule.tactics == ["Execution", "Command and Control"])
        #expect(rule.techniques == ["T1059.004"])
        #expect(rule.author == "Jane Doe")
        #expect(rule.sourceReference == "test.yml")
        #expect(rule.windowSeconds == 300)
        #expect(rule.groupBy == [.hostName, .user, .procName, .swParam])
        #expect(rule.incidentAttributes.map(\.name) == ["hostName", "user", "procName", "swParam"])
        #expect(rule.location == RuleLocation(file: "test.yml", line: 1, column: 1))
    }

    @Test func levelsMapToSeverities() throws {
        for (level, severity) in [("informational", 1), ("low", 3), ("medium", 5), ("high", 7), ("critical", 9)] {
            let text = sigmaText("    selection:\n        Image: x\n    condition: selection").replacingAll(
                "level: high",
                "level: \(level)"
            )
            let result = SigmaRuleDocument.parse(text, file: "t.yml")
            #expect(result.rules.first?.severity == severity, "\(level)")
        }
        let bad = SigmaRuleDocument.parse(
            sigmaText("    selection:\n        Image: x\n    condition: selection").replacingAll(
                "level: high",
                "level: severe"
            ),
            file: "t.yml"
        )
        #expect(
            bad.errors.first?.description
                == "t.yml:4:8: expected level informational, low, medium, high or critical, found 'severe'"
        )
    }

    @Test func otherLogsourcesAreSkippedWithTheReason() {
        let text = sigmaText("    selection:\n        Image: x\n    condition: selection").replacingAll(
            "product: linux",
            "product: windows"
        )
        let result = SigmaRuleDocument.parse(text, file: "w.yml")
        #expect(result.rules.isEmpty)
        #expect(result.errors.isEmpty)
        #expect(
            result.skipped.first?.description
                == "w.yml:11:5: skipped: logsource is category process_creation, product windows; execwatch evaluates Sigma rules of category process_creation, product linux (no service)"
        )
    }

    @Test func severalDocumentsInOneFileLoadEach() {
        let one = sigmaText("    selection:\n        Image: x\n    condition: selection")
        let two = one.replacingAll("11111111", "22222222")
        let result = SigmaRuleDocument.parse(one + "\n---\n" + two, file: "two.yml")
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.rules.map { String($0.id.prefix(8)) } == ["11111111", "22222222"])
    }

    @Test func aTemporalCorrelationAskingForMoreRulesThanItNamesIsRefusedWithTheReason() {
        let text = """
            title: many
            id: c1
            correlation:
                type: temporal
                rules: [a]
                group-by: [User]
                timespan: 1h
                condition: {gte: 10}
            """
        let result = SigmaRuleDocument.parse(text, file: "c.yml")
        #expect(
            result.errors.first?.description
                == "c.yml:8:17: condition 'gte: 10' can never hold: a temporal correlation counts the distinct rules matched, and this one names 1"
        )
    }
}

@Suite struct SigmaValueTests {
    func matches(
        _ detection: String,
        _ event: ExecEvent,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Bool {
        try sigmaRule(detection, sourceLocation: sourceLocation).filter.matches(event)
    }

    func field(_ key: String, _ value: String) -> String {
        "    selection:\n        \(key): \(value)\n    condition: selection"
    }

    @Test func plainValuesMatchTheWholeValueIgnoringCase() throws {
        #expect(try matches(field("Image", "'/usr/bin/NC'"), processEvent(image: "/usr/bin/nc")))
        #expect(try !matches(field("Image", "'/usr/bin/nc'"), processEvent(image: "/usr/bin/ncat")))
        #expect(try matches(field("Image|cased", "'/usr/bin/nc'"), processEvent(image: "/usr/bin/nc")))
        #expect(try !matches(field("Image|cased", "'/usr/bin/NC'"), processEvent(image: "/usr/bin/nc")))
    }

    @Test func containsStartswithEndswith() throws {
        let e = processEvent(commandLine: ["curl", "-o", "/tmp/x", "http://evil"])
        #expect(try matches(field("CommandLine|contains", "'/TMP/'"), e))
        #expect(try matches(field("CommandLine|startswith", "'curl -O'"), e))
        #expect(try matches(field("CommandLine|endswith", "'EVIL'"), e))
        #expect(try !matches(field("CommandLine|endswith", "'curl'"), e))
        #expect(try !matches(field("CommandLine|startswith|cased", "'CURL'"), e))
        #expect(try matches(field("CommandLine|contains|cased", "'http'"), e))
        #expect(try !matches(field("CommandLine|contains|cased", "'HTTP'"), e))
    }

    @Test func wildcardsAndEscapes() throws {
        let e = processEvent(commandLine: ["echo", #"a*b?c\d"#])
        #expect(try matches(field("CommandLine", "'echo a*'"), e))
        #expect(try matches(field("CommandLine", "'e?ho *'"), e))
        #expect(try !matches(field("CommandLine", "'e?o *'"), e))
        // \* and \? are the characters themselves; \\ is one backslash; \d is a plain backslash and d.
        #expect(try matches(field("CommandLine", #"'echo a\*b\?c\d'"#), e))
        #expect(try matches(field("CommandLine", #"'echo a\*b\?c\\d'"#), e))
        #expect(
            try !matches(field("CommandLine", #"'echo a\*bxc\d'"#), processEvent(commandLine: ["echo", "a*bxc?d"]))
        )
        #expect(try !matches(field("CommandLine", #"'echo a\*b'"#), processEvent(commandLine: ["echo", "aXb"])))
        // \\* is a backslash then a wildcard.
        #expect(try matches(field("CommandLine|cased", #"'x\\*'"#), processEvent(commandLine: [#"x\yz"#])))
        // ? is exactly one character, also a multi-byte one.
        #expect(try matches(field("CommandLine", "'caf?'"), processEvent(commandLine: ["café"])))
        #expect(try !matches(field("CommandLine", "'caf?'"), processEvent(commandLine: ["caf"])))
        // Wildcards inside contains values keep their meaning.
        #expect(try matches(field("CommandLine|contains", "'b?c'"), e))
        #expect(try matches(field("Image", "'*'"), processEvent(image: "")))
        #expect(try !matches(field("Image", "'*'"), processEvent(image: nil, invoked: nil)))
    }

    @Test func listsAreOrAllIsAnd() throws {
        let e = processEvent(commandLine: ["wget", "-q", "http://x"])
        let list =
            "    selection:\n        CommandLine|contains:\n            - 'curl'\n            - 'wget'\n    condition: selection"
        #expect(try matches(list, e))
        let all =
            "    selection:\n        CommandLine|contains|all:\n            - 'wget'\n            - '-q'\n    condition: selection"
        #expect(try matches(all, e))
        #expect(try !matches(all, processEvent(commandLine: ["wget", "http://x"])))
    }

    @Test func mapsAreAndListsOfMapsAreOr() throws {
        let map = "    selection:\n        Image|endswith: '/curl'\n        User: root\n    condition: selection"
        #expect(try matches(map, processEvent(image: "/usr/bin/curl", user: "root")))
        #expect(try !matches(map, processEvent(image: "/usr/bin/curl", user: "alice")))
        let listOfMaps =
            "    selection:\n        - Image|endswith: '/curl'\n        - User: root\n    condition: selection"
        #expect(try matches(listOfMaps, processEvent(image: "/usr/bin/true", user: "root")))
        #expect(try matches(listOfMaps, processEvent(image: "/usr/bin/curl", user: "bob")))
        #expect(try !matches(listOfMaps, processEvent(image: "/usr/bin/true", user: "bob")))
    }

    @Test func imageMatchesTheInvokedOrTheResolvedPath() throws {
        let nc = processEvent(image: "/usr/bin/nc.openbsd", invoked: "/usr/bin/nc")
        #expect(try matches(field("Image|endswith", "'/nc'"), nc))
        #expect(try matches(field("Image|endswith", "'.openbsd'"), nc))
        // `not` of an Image selection: neither path matches.
        let negated = "    selection:\n        Image|endswith: '/nc'\n    condition: not selection"
        #expect(try !matches(negated, nc))
        #expect(try matches(negated, processEvent(image: "/usr/bin/ncat", invoked: "/usr/bin/ncat")))
    }

    @Test func otherFieldsReadTheirAttributes() throws {
        let e = processEvent(
            image: "/bin/sh",
            commandLine: ["sh", "-c", "id"],
            parentImage: "/usr/bin/node",
            parentCommandLine: "node server.js",
            user: "www-data",
            cwd: "/srv",
            auid: 0,
            pid: 77
        )
        #expect(try matches(field("ParentImage", "/usr/bin/node"), e))
        #expect(try matches(field("ParentCommandLine|contains", "server.js"), e))
        #expect(try matches(field("User", "WWW-DATA"), e))
        #expect(try matches(field("CurrentDirectory", "/srv"), e))
        #expect(try matches(field("LogonId", "0"), e))
        #expect(try matches(field("ProcessId", "77"), e))
        #expect(try matches(field("ParentProcessId", "1"), e))
        #expect(try matches(field("CommandLine", "'sh -c id'"), e))
    }

    @Test func regularExpressionsAndTheirFlags() throws {
        let e = processEvent(commandLine: ["ls", "-R", "/Home"])
        #expect(try matches(field("CommandLine|re", #"'\s-R\s'"#), e))
        #expect(try !matches(field("CommandLine|re", #"'\s-r\s'"#), e))  // case-sensitive by default
        #expect(try matches(field("CommandLine|re|i", #"'\s-r\s'"#), e))
        let multiline = processEvent(commandLine: ["printf", "a\nb"])
        #expect(try !matches(field("CommandLine|re", "'^b'"), multiline))
        #expect(try matches(field("CommandLine|re|m", "'^b'"), multiline))
        #expect(try !matches(field("CommandLine|re", "'a.b'"), multiline))
        #expect(try matches(field("CommandLine|re|s", "'a.b'"), multiline))
    }

    @Test func existsAndNull() throws {
        #expect(try matches(field("ParentImage|exists", "true"), processEvent(parentImage: "/bin/bash")))
        #expect(try !matches(field("ParentImage|exists", "true"), processEvent(parentImage: nil)))
        #expect(try matches(field("ParentImage|exists", "false"), processEvent(parentImage: nil)))
        #expect(try matches(field("ParentImage", "null"), processEvent(parentImage: nil)))
        #expect(try !matches(field("ParentImage", "null"), processEvent(parentImage: "")))
        #expect(try matches(field("ParentImage", "''"), processEvent(parentImage: "")))
        #expect(try !matches(field("ParentImage", "''"), processEvent(parentImage: nil)))
        // Image is null only when neither path is known.
        #expect(try !matches(field("Image", "null"), processEvent(image: nil, invoked: "/bin/x")))
        #expect(try matches(field("Image", "null"), processEvent(image: nil, invoked: nil)))
    }

    @Test func numericComparisons() throws {
        let e = processEvent(pid: 500)
        #expect(try matches(field("ProcessId|gt", "499"), e))
        #expect(try !matches(field("ProcessId|gt", "500"), e))
        #expect(try matches(field("ProcessId|gte", "500"), e))
        #expect(try matches(field("ProcessId|lt", "501"), e))
        #expect(try !matches(field("ProcessId|lt", "500"), e))
        #expect(try matches(field("ProcessId|lte", "500"), e))
        #expect(try !matches(field("ProcessId|gt", "1"), processEvent(pid: nil)))
    }

    @Test func fieldReferences() throws {
        let same = processEvent(image: "/usr/bin/python3", parentImage: "/usr/bin/PYTHON3")
        #expect(try matches(field("Image|fieldref", "ParentImage"), same))
        #expect(try !matches(field("Image|fieldref|cased", "ParentImage"), same))
        #expect(try !matches(field("Image|fieldref", "ParentImage"), processEvent(parentImage: "/bin/bash")))
    }

    @Test func windashAcceptsEveryDash() throws {
        for flag in ["-e", "/e", "–e", "—e", "―e"] {
            #expect(
                try matches(
                    field("CommandLine|windash|contains", "' -e '"),
                    processEvent(commandLine: ["nc", flag, "sh"])
                ),
                "\(flag)"
            )
        }
        #expect(
            try !matches(
                field("CommandLine|windash|contains", "' -e '"),
                processEvent(commandLine: ["nc", "+e", "sh"])
            )
        )
    }

    @Test func base64AndBase64Offset() throws {
        // "curl" is Y3VybA== as a whole value.
        #expect(
            try matches(field("CommandLine|base64|contains", "curl"), processEvent(commandLine: ["echo", "Y3VybA=="]))
        )
        // base64offset: the value at any of three offsets of a longer encoded text.
        for prefix in ["", "a", "ab"] {
            let encoded = String(
                decoding: base64(Array((prefix + "/bin/sh -i").utf8) + Array("xyz".utf8)),
                as: UTF8.self
            )
            #expect(
                try matches(
                    field("CommandLine|base64offset|contains", "'/bin/sh -i'"),
                    processEvent(commandLine: ["echo", encoded])
                ),
                "\(prefix): \(encoded)"
            )
        }
        #expect(
            try !matches(
                field("CommandLine|base64offset|contains", "'/bin/sh -i'"),
                processEvent(commandLine: ["echo", "aGVsbG8="])
            )
        )
    }

    @Test func neqNegatesTheValues() throws {
        #expect(try matches(field("User|neq", "root"), processEvent(user: "alice")))
        #expect(try !matches(field("User|neq", "root"), processEvent(user: "ROOT")))
    }

    @Test func keywordsSearchTheEventsText() throws {
        let keywords = "    keywords:\n        - 'reverse_shell'\n        - 'meterpreter'\n    condition: keywords"
        #expect(try matches(keywords, processEvent(commandLine: ["python3", "/tmp/meterpreter.py"])))
        #expect(try matches(keywords, processEvent(image: "/opt/reverse_shell")))
        #expect(try !matches(keywords, processEvent(commandLine: ["ls"])))
        let all = "    keywords:\n        '|all':\n            - 'nc'\n            - '-e'\n    condition: keywords"
        #expect(try matches(all, processEvent(commandLine: ["nc", "-e", "/bin/sh"])))
        #expect(try !matches(all, processEvent(commandLine: ["nc", "-l"])))
    }

    @Test func plainPatternsCompileToSimpleMatchers() throws {
        let rule = try sigmaRule(
            "    selection:\n        Image|endswith: '/nc'\n        CommandLine|contains: ' -e '\n        User|startswith: 'ro'\n    condition: selection"
        )
        #expect(
            rule.filter.description == "Image LIKE '*/nc' AND CommandLine LIKE '* -e *' AND User LIKE 'ro*'"
        )
    }
}

@Suite struct SigmaConditionTests {
    let detection = """
            selection_a:
                User: a
            selection_b:
                CurrentDirectory: /b
            filter_c:
                Image|endswith: /c
            _hidden:
                User: hidden
        """

    func matches(
        _ condition: String,
        _ event: ExecEvent,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Bool {
        try sigmaRule(detection + "\n    condition: \(condition)", sourceLocation: sourceLocation).filter.matches(event)
    }

    let a = processEvent(image: "/bin/x", user: "a", cwd: "/z")
    let ab = processEvent(image: "/bin/x", user: "a", cwd: "/b")
    let abc = processEvent(image: "/bin/c", user: "a", cwd: "/b")
    let hidden = processEvent(image: "/bin/x", user: "hidden", cwd: "/z")

    @Test func andOrNotParentheses() throws {
        #expect(try matches("selection_a and selection_b", ab))
        #expect(try !matches("selection_a and selection_b", a))
        #expect(try matches("selection_a or selection_b", a))
        #expect(try matches("selection_a and not filter_c", ab))
        #expect(try !matches("selection_a and not filter_c", abc))
        #expect(try !matches("not (selection_a or selection_b)", a))
        // `and` binds tighter than `or`; `not` tighter than `and`.
        #expect(try matches("filter_c or selection_a and selection_b", ab))
        #expect(try !matches("(filter_c or selection_a) and selection_b", a))
        #expect(try matches("not filter_c and selection_a", a))
    }

    @Test func quantifiersOverPatternsAndThem() throws {
        #expect(try matches("1 of selection_*", a))
        #expect(try !matches("all of selection_*", a))
        #expect(try matches("all of selection_*", ab))
        #expect(try matches("1 of them", a))
        #expect(try !matches("all of them", ab))
        #expect(try matches("all of them", abc))
        // `_hidden` is not part of `them` nor of patterns.
        #expect(try !matches("1 of them", hidden))
        #expect(try !matches("1 of *", hidden))
        #expect(try matches("_hidden", hidden))
        #expect(try matches("selection_a and not 1 of filter*", ab))
    }

    @Test func aListOfConditionsIsOr() throws {
        let rule = try sigmaRule(detection + "\n    condition:\n        - selection_b\n        - filter_c")
        #expect(rule.filter.matches(abc))
        #expect(!rule.filter.matches(a))
    }

    @Test func conditionErrorsNamePlaceAndConstruct() {
        #expect(
            sigmaError(detection + "\n    condition: selection_a and selecton_b")?.description
                == "test.yml:22:32: condition: unknown search identifier 'selecton_b' (the detection defines 'selection_a', 'selection_b', 'filter_c', '_hidden')"
        )
        #expect(
            sigmaError(detection + "\n    condition: (selection_a")?.description
                == "test.yml:22:28: condition: expected ')' to close the '(' at offset 0, found the end of the condition"
        )
        #expect(
            sigmaError(detection + "\n    condition: 2 of selection_*")?.description
                == "test.yml:22:16: condition: expected '1 of' or 'all of', found '2 of' (the specification has no other count)"
        )
        #expect(
            sigmaError(detection + "\n    condition: 1 of keyword*")?.description
                == "test.yml:22:21: condition: '1 of keyword*' names no search identifier (the detection defines 'selection_a', 'selection_b', 'filter_c', '_hidden')"
        )
        #expect(
            sigmaError(detection + "\n    condition: selection_a | count() > 5")?.description
                == "test.yml:22:16: aggregation in a condition ('| count() …', Sigma 1) is not supported: write a correlation rule"
        )
        // 100,000 `(` overflowed the stack (the whole program crashed); the 65th is refused.
        let deep = String(repeating: "(", count: 100_000) + "selection_a" + String(repeating: ")", count: 100_000)
        #expect(
            sigmaError(detection + "\n    condition: \(deep)")?.description
                == "test.yml:22:80: condition: nested deeper than 64 levels of parentheses and 'not'"
        )
        let nots = String(repeating: "not ", count: 100_000) + "selection_a"
        #expect(
            sigmaError(detection + "\n    condition: \(nots)")?.description
                == "test.yml:22:272: condition: nested deeper than 64 levels of parentheses and 'not'"
        )
    }
}

@Suite struct SigmaRefusalTests {
    func refusal(_ key: String, _ value: String) -> String? {
        sigmaError("    selection:\n        \(key): \(value)\n    condition: selection")?.description
    }

    @Test func constructsThatCannotApplyAreRefusedWithPlace() {
        #expect(
            refusal("Hashes|contains", "'MD5=0'")
                == "test.yml:15:9: field 'Hashes' cannot apply to Linux process events: execwatch does not hash executables"
        )
        #expect(
            refusal("CommandLin", "x")
                == "test.yml:15:9: field 'CommandLin' is not a field of Linux process_creation events (known: CommandLine, CurrentDirectory, Image, LogonId, ParentCommandLine, ParentImage, ParentProcessId, ProcessId, User); did you mean 'CommandLine'?"
        )
        #expect(
            refusal("CommandLine|utf16le|base64offset|contains", "x")
                == "test.yml:15:9: modifier 'utf16le' cannot apply to Linux process events: their text is UTF-8 bytes, never UTF-16"
        )
        #expect(
            refusal("CommandLine|cidr", "10.0.0.0/8")
                == "test.yml:15:9: modifier 'cidr' cannot apply to Linux process events: no field of process_creation is an IP address"
        )
        #expect(
            refusal("CommandLine|expand", "'%Servers%'")
                == "test.yml:15:9: modifier 'expand' needs placeholder values execwatch does not define (the specification asks to reject such rules)"
        )
        #expect(
            refusal("CommandLine|startswith|endswith", "x")
                == "test.yml:15:9: modifiers 'endswith' and another of contains/startswith/endswith together"
        )
        #expect(refusal("CommandLine|frobnicate", "x") == "test.yml:15:9: unknown modifier 'frobnicate'")
        #expect(
            refusal("CommandLine|contains|all", "x")
                == "test.yml:15:9: modifier 'all' needs a list of at least two values (specification, Generic Modifiers)"
        )
        let regexError = refusal("CommandLine|re", "'(unclosed'")
        #expect(
            regexError?.hasPrefix("test.yml:15:25: regular expression of 'CommandLine' does not compile:") == true,
            "\(String(describing: regexError))"
        )
        #expect(
            refusal("CommandLine|re|contains", "x")
                == "test.yml:15:9: modifier 're' cannot be combined with contains/startswith/endswith/base64/base64offset/windash"
        )
        #expect(refusal("ProcessId|gt", "many") == "test.yml:15:23: numeric modifier expects a number, found 'many'")
        #expect(
            refusal("Image|exists", "maybe") == "test.yml:15:23: modifier 'exists' expects true or false, found 'maybe'"
        )
        #expect(
            sigmaError("    selection:\n        Image:\n            - x\n            - null\n    condition: selection")?
                .description
                == "test.yml:17:15: null cannot be part of a list of values (specification, Special Field Values): use its own selection"
        )
    }
}

/// Base64 for the tests (independent of the implementation's).
func base64(_ bytes: [UInt8]) -> [UInt8] {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var bits = 0
    var value = 0
    for b in bytes {
        value = value << 8 | Int(b)
        bits += 8
        while bits >= 6 {
            bits -= 6
            out.append(table[(value >> bits) & 0x3F])
        }
    }
    if bits > 0 { out.append(table[(value << (6 - bits)) & 0x3F]) }
    while out.count % 4 != 0 { out.append(UInt8(ascii: "=")) }
    return out
}
