import Testing

@testable import YAML

/// The one document of `text`.
private func document(_ text: String) throws -> YAMLNode {
    let documents = try YAMLReader.documents(in: Array(text.utf8))
    try #require(documents.count == 1, "\(documents.count) documents")
    return documents[0]
}

/// The error reading `text` gives, or nil when it reads.
private func readingError(_ text: String) -> YAMLError? {
    readingError(Array(text.utf8))
}

private func readingError(_ bytes: [UInt8]) -> YAMLError? {
    do {
        _ = try YAMLReader.documents(in: bytes)
        return nil
    } catch {
        return error
    }
}

private func plain(_ value: String, _ line: Int, _ column: Int) -> YAMLNode {
    .scalar(YAMLScalar(value: value, style: .plain, mark: YAMLMark(line: line, column: column)))
}

/// `key: value` pairs of a mapping of scalars, as text.
private func pairs(_ node: YAMLNode) -> [String] {
    guard case .mapping(let entries, _) = node else { return ["not a mapping: \(node)"] }
    return entries.map { entry in
        guard case .scalar(let key) = entry.key else { return "?" }
        switch entry.value {
        case .scalar(let value): return "\(key.value)=\(value.value)"
        case .sequence(let items, _): return "\(key.value)=[\(items.count)]"
        case .mapping(let nested, _):
            return "\(key.value)={\(pairs(.mapping(nested, mark: entry.value.mark)).joined(separator: ","))}"
        }
    }
}

@Suite("YAML collections")
struct YAMLCollectionTests {
    @Test func blockCollectionsCarryTheirPositions() throws {
        let node = try document("- a\n- 'b'\n-\n  x: 1\n")
        #expect(
            node
                == .sequence(
                    [
                        plain("a", 1, 3),
                        .scalar(YAMLScalar(value: "b", style: .singleQuoted, mark: YAMLMark(line: 2, column: 3))),
                        .mapping(
                            [YAMLMapEntry(key: plain("x", 4, 3), value: plain("1", 4, 6))],
                            mark: YAMLMark(line: 4, column: 3)
                        ),
                    ],
                    mark: YAMLMark(line: 1, column: 1)
                )
        )
    }

    @Test func flowCollectionsNestAndSpanLines() throws {
        let node = try document("a: [1, [2, 3], {k: v, l: [x]}]\nb: {\n  c: d,\n  e: [f,\n     g]\n}\n")
        guard case .mapping(let entries, _) = node, entries.count == 2 else {
            Issue.record("\(node)")
            return
        }
        guard case .sequence(let items, let mark) = entries[0].value else {
            Issue.record("\(entries[0].value)")
            return
        }
        #expect(mark == YAMLMark(line: 1, column: 4))
        #expect(items.count == 3)
        #expect(items[1] == .sequence([plain("2", 1, 9), plain("3", 1, 12)], mark: YAMLMark(line: 1, column: 8)))
        #expect(pairs(items[2]) == ["k=v", "l=[1]"])
        #expect(pairs(entries[1].value) == ["c=d", "e=[2]"])
    }

    @Test func anIndentlessSequenceUnderAKeyIsItsValue() throws {
        let node = try document("rules:\n- /a\n- /b\nsource: auto\n")
        #expect(pairs(node) == ["rules=[2]", "source=auto"])
    }

    @Test func emptyValuesAreNullScalars() throws {
        let node = try document("a:\nb: ~\nc: ''\n")
        guard case .mapping(let entries, _) = node else {
            Issue.record("\(node)")
            return
        }
        let nulls = entries.map { entry -> Bool in
            guard case .scalar(let scalar) = entry.value else { return false }
            return scalar.isNull
        }
        #expect(nulls == [true, true, false])
    }
}

@Suite("YAML scalars")
struct YAMLScalarTests {
    func scalar(_ text: String) throws -> YAMLScalar {
        guard case .scalar(let scalar) = try document(text) else {
            throw YAMLError(message: "no scalar", mark: .init(line: 0, column: 0))
        }
        return scalar
    }

    @Test func everyStyleGivesItsValue() throws {
        #expect(try scalar("plain text # comment") == YAMLScalar(value: "plain text", mark: .init(line: 1, column: 1)))
        #expect(try scalar("'it''s # not a comment'").value == "it's # not a comment")
        #expect(try scalar("'it''s'").style == .singleQuoted)
        let double = try scalar(#""tab\there \"q\" \\ \x41\u00e9 \/""#)
        #expect(double.value == "tab\there \"q\" \\ Aé /")
        #expect(double.style == .doubleQuoted)
        #expect(try scalar("\"folded\n  lines\"").value == "folded lines")
    }

    @Test func blockScalarsKeepOrFoldLinesAndChomp() throws {
        let literal = try scalar("|\n  line 1\n   indented\n\n  line 3\n")
        #expect(literal.value == "line 1\n indented\n\nline 3\n")
        #expect(literal.style == .literal)
        #expect(try scalar("|-\n  a\n  b\n\n").value == "a\nb")
        #expect(try scalar("|+\n  a\n\n").value == "a\n\n")
        let folded = try scalar(">\n  one\n  two\n\n  three\n")
        #expect(folded.value == "one two\nthree\n")
        #expect(folded.style == .folded)
        let node = try document("cmd: >-\n  sh -c\n  'id'\nnext: 1\n")
        #expect(pairs(node) == ["cmd=sh -c 'id'", "next=1"])
    }

    @Test func tagsAreResolved() throws {
        let tagged = try scalar("!!str 123")
        #expect(tagged.tag == "tag:yaml.org,2002:str")
        #expect(tagged.integer == nil)
        #expect(try scalar("!local x").tag == "!local")
    }

    @Test(arguments: ["null", "Null", "NULL", "~", ""])
    func plainNullForms(_ text: String) {
        let scalar = YAMLScalar(value: text, mark: .init(line: 1, column: 1))
        #expect(scalar.isNull)
    }

    @Test func quotedNullIsText() throws {
        #expect(try !scalar("'null'").isNull)
        #expect(try !scalar("\"\"").isNull)
        #expect(try !scalar("nil").isNull)
        #expect(try !scalar("NuLL").isNull)
    }

    @Test func booleansInTheirCaseForms() throws {
        for text in ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"] {
            #expect(try scalar(text).bool == true, "\(text)")
        }
        for text in ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"] {
            #expect(try scalar(text).bool == false, "\(text)")
        }
        for text in ["'true'", "tRUE", "y", "n", "1", "yes please"] {
            #expect(try scalar(text).bool == nil, "\(text)")
        }
    }

    @Test func integersWithCheckedArithmetic() throws {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("42", 42), ("-17", -17), ("+5", 5), ("16_384", 16384), ("0x1F", 31), ("-0x10", -16),
            ("0o17", 15), ("017", 15), ("0b101", 5),
            ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
            ("9223372036854775808", nil), ("99999999999999999999", nil), ("-9223372036854775809", nil),
            ("1e3", nil), ("1.5", nil), ("0x", nil), ("-", nil), ("08", nil), ("0xG", nil), ("_1", nil),
            ("twelve", nil), ("", nil),
        ]
        for (text, expected) in cases {
            #expect(YAMLScalar(value: text, mark: .init(line: 1, column: 1)).integer == expected, "\(text)")
        }
        #expect(try scalar("12").integer == 12)
        #expect(try scalar("'12'").integer == nil)
        #expect(try scalar("!!int '12'").integer == 12)
    }
}

@Suite("YAML anchors, aliases and merge keys")
struct YAMLAliasTests {
    @Test func aliasesRepeatTheAnchoredNode() throws {
        let node = try document("base: &b [x, y]\ncopy: *b\nword: &w hello\nagain: *w\n")
        #expect(pairs(node) == ["base=[2]", "copy=[2]", "word=hello", "again=hello"])
    }

    @Test func mergeKeysBringEntriesAndWrittenKeysWin() throws {
        let text = """
            defaults: &d {level: low, status: test}
            more: &m {author: a, level: medium}
            one:
              <<: *d
              status: stable
            two:
              <<: [*m, *d]
              title: t
            """
        let node = try document(text)
        guard case .mapping(let entries, _) = node else {
            Issue.record("\(node)")
            return
        }
        #expect(pairs(entries[2].value) == ["status=stable", "level=low"])
        #expect(pairs(entries[3].value) == ["title=t", "author=a", "level=medium", "status=test"])
    }

    @Test func aQuotedMergeKeyIsAnOrdinaryKey() throws {
        #expect(pairs(try document("'<<': {a: 1}\n")) == ["<<={a=1}"])
    }

    @Test func aMergeKeyOfAScalarIsAnError() {
        #expect(
            readingError("a:\n  <<: text\n")
                == YAMLError(
                    message: "a merge key << takes a mapping or a list of mappings",
                    mark: YAMLMark(line: 2, column: 7)
                )
        )
    }

    @Test func anUndefinedOrSelfReferringAliasIsAnError() {
        #expect(readingError("a: *nowhere\n")?.mark == YAMLMark(line: 1, column: 4))
        #expect(readingError("a: *nowhere\n")?.message.contains("alias *nowhere names no anchor") == true)
        #expect(readingError("a: &loop [*loop]\n")?.mark == YAMLMark(line: 1, column: 11))
    }

    @Test func anchorsBelongToTheirDocument() {
        #expect(readingError("a: &x 1\n---\nb: *x\n")?.mark == YAMLMark(line: 3, column: 4))
    }
}

@Suite("YAML streams")
struct YAMLStreamTests {
    @Test func emptyStreamsHaveNoDocuments() throws {
        #expect(try YAMLReader.documents(in: []) == [])
        #expect(try YAMLReader.documents(in: Array("# only a comment\n\n".utf8)) == [])
    }

    @Test func everyDocumentOfAStream() throws {
        let documents = try YAMLReader.documents(in: Array("title: one\n---\ntitle: two\n...\n---\n- three\n".utf8))
        #expect(documents.count == 3)
        #expect(pairs(documents[1]) == ["title=two"])
        #expect(documents[1].mark == YAMLMark(line: 3, column: 1))
        #expect(documents[2] == .sequence([plain("three", 6, 3)], mark: YAMLMark(line: 6, column: 1)))
    }

    @Test func anExplicitEmptyDocumentIsANullScalar() throws {
        let documents = try YAMLReader.documents(in: Array("---\n".utf8))
        guard documents.count == 1, case .scalar(let scalar) = documents[0] else {
            Issue.record("\(documents)")
            return
        }
        #expect(scalar.isNull)
    }
}

@Suite("YAML errors")
struct YAMLErrorTests {
    @Test func syntaxErrorsNameLineColumnAndWhatWasBeingRead() {
        let unclosed = readingError("a:\n  key: [unclosed\n")
        #expect(unclosed?.mark == YAMLMark(line: 3, column: 1))
        #expect(
            unclosed?.message == "did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 8)"
        )
        #expect(unclosed?.description.hasPrefix("line 3, column 1: did not find expected") == true)
        let quote = readingError("a: \"open\n")
        #expect(quote?.message.contains("found unexpected end of stream") == true)
        #expect(quote?.message.contains("while scanning a quoted scalar at line 1, column 4") == true)
        #expect(readingError("a: 1\n  b: 2\n")?.mark == YAMLMark(line: 2, column: 4))
        let tab = readingError("a:\n\tb: 1\n")
        #expect(tab?.mark == YAMLMark(line: 2, column: 1))
        #expect(
            tab?.message.hasSuffix("; it is a tab: YAML indents with spaces only") == true,
            "\(String(describing: tab))"
        )
        // libyaml counts characters: after non-ASCII text the tab is further on in bytes
        let tabAfterText = readingError("a: \u{E9}t\u{E9}\n\tb: 1\n")
        #expect(tabAfterText?.mark == YAMLMark(line: 2, column: 1))
        #expect(
            tabAfterText?.message.hasSuffix("; it is a tab: YAML indents with spaces only") == true,
            "\(String(describing: tabAfterText))"
        )
    }

    @Test func anErrorAtTheEndOfATextWithoutAFinalLineBreakIsOnItsLastLine() throws {
        // libyaml names line 3 (a line break it adds at the end of the stream); the text has 2.
        let error = readingError("title: x\naaaa")
        #expect(error?.mark == YAMLMark(line: 2, column: 5), "\(String(describing: error))")
        #expect(error?.message.contains("while scanning a simple key at line 2, column 1") == true)
        #expect(readingError("title: x\naaaa\n")?.mark == YAMLMark(line: 3, column: 1))
        // Characters, not bytes: libyaml's index counts characters.
        #expect(readingError("title: é\nxé-ω")?.mark == YAMLMark(line: 2, column: 5))
        // Nodes too: the empty document after `---` at the very end is on the last line.
        let documents = try YAMLReader.documents(in: Array("a: 1\r---".utf8))
        #expect(documents.last?.mark == YAMLMark(line: 2, column: 4))
    }

    @Test func duplicateKeysAreRefusedWhereTheSecondIs() {
        #expect(
            readingError("source: auto\nnested:\n  k: 1\n  k: 2\n")
                == YAMLError(message: "duplicate key \"k\"", mark: YAMLMark(line: 4, column: 3))
        )
        #expect(readingError("{a: 1, 'a': 2}")?.mark == YAMLMark(line: 1, column: 8))
    }

    /// Short mappings compare keys one by one, long ones through a set: a duplicate is found
    /// wherever it is, in mappings of every size around the switch (16 keys).
    @Test func duplicateKeysAreFoundInMappingsOfEverySize() {
        for count in 1...40 {
            let keys = (0..<count).map { "key\($0)" }
            let text = keys.map { "\($0): 1\n" }.joined()
            #expect(readingError("m:\n" + text.split(separator: "\n").map { "  " + $0 + "\n" }.joined()) == nil)
            for position in 0..<count {
                for earlier in [0, position / 2, position - 1] where earlier >= 0 && earlier < position {
                    var lines = keys.map { "  \($0): 1" }
                    lines[position] = "  \(keys[earlier]): 2"
                    #expect(
                        readingError("m:\n" + lines.joined(separator: "\n") + "\n")
                            == YAMLError(
                                message: "duplicate key \"\(keys[earlier])\"",
                                mark: YAMLMark(line: position + 2, column: 3)
                            ),
                        "\(count) keys, key \(position) repeats key \(earlier)"
                    )
                }
            }
        }
        // Keys compare as strings do (canonically equivalent texts are equal), short or long.
        let padding = (0..<20).map { "  p\($0): 1\n" }.joined()
        for prefix in ["", padding] {
            let text = "m:\n" + prefix + "  caf\u{E9}: 1\n  cafe\u{301}: 2\n"
            #expect(readingError(text)?.message == "duplicate key \"cafe\u{301}\"", "\(prefix.count)")
        }
    }

    @Test func collectionsAsKeysAreRefused() {
        #expect(readingError("? [a, b]\n: c\n")?.message == "a mapping key must be a scalar, not a collection")
    }

    @Test func invalidUTF8IsRefusedWithItsPosition() {
        let error = readingError(Array("a: 1\nb: é".utf8) + [0xff, 0x0a])
        #expect(error?.mark == YAMLMark(line: 2, column: 5))
        #expect(error?.message.contains("UTF-8") == true, "\(String(describing: error))")
        #expect(error?.message.contains("0xFF") == true, "\(String(describing: error))")
    }
}

@Suite("YAML limits")
struct YAMLLimitTests {
    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        // Each level is a collection in a tree consumers walk recursively: 100,000 `[` once
        // overflowed the stack.
        let flow = readingError("names: " + String(repeating: "[", count: 100_000))
        #expect(
            flow
                == YAMLError(
                    message: "collections nested deeper than 256 levels",
                    mark: YAMLMark(line: 1, column: 8 + 255)
                )
        )
        var block = ""
        for level in 0..<300 { block += String(repeating: " ", count: level) + "k:\n" }
        #expect(readingError(block)?.message == "collections nested deeper than 256 levels")
        let deepest = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(readingError(deepest) == nil)
    }

    @Test func aliasesOfDeepNodesCountTheirDepth() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let text = "a: &d \(deep)\nb: " + String(repeating: "[", count: 100) + "*d" + String(repeating: "]", count: 100)
        #expect(readingError(text)?.message == "collections nested deeper than 256 levels")
    }

    @Test func billionLaughsIsRefused() {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
            previous = name
        }
        let error = readingError(text)
        #expect(error?.message == "aliases expand to more than 100000 nodes")
        #expect((error?.mark.line ?? 0) > 1)
        // Aliases within the limit read.
        #expect(readingError("a: &a [x, y]\nb: [*a, *a, *a]\n") == nil)
    }
}
