import ExecEvents
import Testing

@testable import RuleEngine

/// The guards' literals are all looked for in one pass over a text; these tests compare that pass
/// with a plain search for each literal, so that no literal (and so no rule) is lost by it.
@Suite struct LiteralSetTests {
    /// Whether `text` contains `literal` (folded), ignoring ASCII case: the plain search.
    private func naiveContains(_ text: [UInt8], _ literal: [UInt8]) -> Bool {
        guard text.count >= literal.count else { return false }
        for start in 0...(text.count - literal.count)
        where (0..<literal.count).allSatisfy({ asciiLower(text[start + $0]) == literal[$0] }) {
            return true
        }
        return false
    }

    private func found(_ set: LiteralSet, _ text: [UInt8]) -> [Int] {
        let occurrences = text.withUnsafeBufferPointer { set.occurrences(in: $0) }
        return set.literals.indices.filter { occurrences.contains($0) }
    }

    @Test func literalsThatOverlapOrArePrefixesOfEachOtherAreAllFound() throws {
        var set = LiteralSet()
        let texts = ["ab", "abc", "ABCD", "bc", "cab", "abd", " -e ", "-e", "e ", "aa", "aaa"]
        var ids: [Int] = []
        for text in texts {
            let id = set.insert(Array(text.utf8))
            ids.append(try #require(id))
        }
        #expect(ids == Array(0..<texts.count))
        let again = set.insert(Array("AbC".utf8))
        #expect(again == 1)  // the same text in another case: the same id
        #expect(found(set, Array("xxABCab".utf8)) == [0, 1, 3, 4])
        #expect(found(set, Array("nc -E /bin/sh".utf8)) == [6, 7, 8])
        #expect(found(set, Array("AAAA".utf8)) == [9, 10])
        #expect(found(set, Array("abcd".utf8)) == [0, 1, 2, 3])
        // A literal at the very end, and one cut off by the end.
        #expect(found(set, Array("xyzab".utf8)) == [0])
        #expect(found(set, Array("xyzabc".utf8)) == [0, 1, 3])
        #expect(found(set, Array("xyzabc".utf8).dropLast().map { $0 }) == [0])
        #expect(found(set, Array("a".utf8)).isEmpty)
        #expect(found(set, []).isEmpty)
    }

    /// Random literals and texts over a small alphabet (so that they overlap a lot), with bytes
    /// above 0x7F and both cases: the one pass finds exactly what a search for each finds.
    @Test func onePassFindsWhatASearchForEachFinds() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("aAbB-/ \u{7F}".utf8) + [0xC3, 0xA9, 0x5A, 0x7A]
        func random(_ length: Int) -> [UInt8] {
            (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
        }
        for _ in 0..<60 {
            var set = LiteralSet()
            var literals: [[UInt8]] = []
            for _ in 0..<Int.random(in: 1...40, using: &generator) {
                let literal = random(Int.random(in: 2...5, using: &generator))
                if let id = set.insert(literal), id == literals.count { literals.append(asciiLowercased(literal)) }
            }
            for _ in 0..<10 {
                let text = random(Int.random(in: 0...700, using: &generator))
                let expected = literals.indices.filter { naiveContains(text, literals[$0]) }
                #expect(found(set, text) == expected, "\(literals) in \(text)")
                // Recording the byte pairs in the same pass changes nothing, and gives the pairs
                // a separate pass gives.
                var occurrences: LiteralOccurrences?
                let pairs = text.withUnsafeBufferPointer { bytes in
                    BytePairSet { occurrences = set.occurrences(in: bytes, recordingPairs: $0) }
                }
                #expect(literals.indices.filter { occurrences!.contains($0) } == expected)
                #expect(pairs == text.withUnsafeBufferPointer { BytePairSet($0) })
            }
        }
    }
}

/// A long argv is read once for the guards' literals and its byte pairs, whichever a rule asks for
/// first; no match is lost either way.
@Suite struct CommandLineScanTests {
    @Test func pairsFirstOrLiteralsFirstFindTheSame() throws {
        // `not` leaves the first rule unguarded: it reads the argv's byte pairs before any guard
        // looks for its literals; the second rule is guarded by `evil`.
        let unguarded = try sigmaRule(
            id: "unguarded",
            "    sel:\n        CommandLine|contains: 'Benign'\n    condition: not sel"
        )
        let guarded = try sigmaRule(id: "guarded", "    sel:\n        CommandLine|contains: 'EVIL'\n    condition: sel")
        let filler = String(repeating: "x", count: 2_000)
        for rules in [[unguarded, guarded], [guarded, unguarded]] {
            var e = engine(rules)
            let matched = e.process(processEvent(image: "/usr/bin/sh", commandLine: ["sh", filler, "eViL"]))
            #expect(matched.map(\.incident.ruleId).sorted() == ["guarded", "unguarded"])
            let benign = e.process(processEvent(image: "/usr/bin/sh", commandLine: ["sh", "bEnIgN", filler, "evil"]))
            #expect(benign.map(\.incident.ruleId) == ["guarded"])
            let none = e.process(processEvent(image: "/usr/bin/sh", commandLine: ["sh", filler, "benig", "evi"]))
            #expect(none.map(\.incident.ruleId) == ["unguarded"])
        }
    }
}
