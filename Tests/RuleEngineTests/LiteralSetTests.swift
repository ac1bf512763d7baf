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
            }
        }
    }

    /// Literals of every length from 2 to 40 over a wider alphabet (every byte that folding
    /// could confuse: `@`, `[`, `` ` ``, `{`, the letters' edges, 0x7F, 0x80, 0xC0 and 0xFF), in
    /// texts of every length around the scan's four-byte steps, with literals at the first and
    /// last position and in case variants: the one pass finds exactly what a search for each finds.
    @Test func literalsAtTheEdgesOfTextsOfEveryLengthInAnyCase() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("aAzZ@[`{ -/".utf8) + [0x7f, 0x80, 0xc0, 0xe0, 0xff, 0x00]
        func random(_ length: Int) -> [UInt8] {
            (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
        }
        func anyCase(_ bytes: [UInt8]) -> [UInt8] {
            bytes.map { c in
                let isLetter = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                return isLetter && Bool.random(using: &generator) ? c ^ 0x20 : c
            }
        }
        for _ in 0..<40 {
            var set = LiteralSet()
            var literals: [[UInt8]] = []
            for _ in 0..<Int.random(in: 1...60, using: &generator) {
                let literal = random(Int.random(in: 2...(Bool.random(using: &generator) ? 4 : 40), using: &generator))
                if let id = set.insert(literal), id == literals.count { literals.append(asciiLowercased(literal)) }
            }
            for length in 0...40 {
                var text = random(length)
                if let literal = literals.randomElement(using: &generator), Bool.random(using: &generator) {
                    let placed = anyCase(literal)
                    if Bool.random(using: &generator) { text = placed + text } else { text += placed }
                }
                let expected = literals.indices.filter { naiveContains(text, literals[$0]) }
                #expect(found(set, text) == expected, "\(literals) in \(text)")
            }
        }
    }

    /// Literals sharing long beginnings (`/bin/sh`, `/bin/bash`, …, of every length around the
    /// eight bytes compared at once) in texts holding them cut short, whole, or longer, in any
    /// case: the one pass finds exactly what a search for each finds.
    @Test func literalsSharingTheirFirstBytesAreToldApart() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("aZ/-.[@`{".utf8) + [0x7F, 0x80, 0xC1, 0xDA, 0xFF]
        for _ in 0..<40 {
            let stem = (0..<Int.random(in: 2...12, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            var set = LiteralSet()
            var literals: [[UInt8]] = []
            for _ in 0..<Int.random(in: 1...30, using: &generator) {
                let tail = (0..<Int.random(in: 0...10, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
                let literal = Array(
                    (stem + tail).prefix(Int.random(in: 2...(stem.count + tail.count + 2), using: &generator))
                )
                guard literal.count >= 2 else { continue }
                if let id = set.insert(literal), id == literals.count { literals.append(asciiLowercased(literal)) }
            }
            for _ in 0..<30 {
                var text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
                let placed = literals.randomElement(using: &generator)!
                let cut = Array(placed.prefix(Int.random(in: 0...placed.count, using: &generator)))
                text += cut.map { c in Bool.random(using: &generator) && c >= 0x61 && c <= 0x7A ? c - 0x20 : c }
                text += (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
                let expected = literals.indices.filter { naiveContains(text, literals[$0]) }
                #expect(found(set, text) == expected, "\(literals) in \(text)")
            }
        }
    }

    /// Eight bytes folded at once are each byte folded alone, for every byte value in every place.
    @Test func eightBytesAreFoldedAsEachAlone() {
        var generator = SystemRandomNumberGenerator()
        for value in 0...255 {
            for place in 0..<8 {
                var bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes[place] = UInt8(value)
                let folded = bytes.withUnsafeBufferPointer { LiteralSet.foldedWord($0, at: 0) }
                var expected: UInt64 = 0
                for (k, c) in bytes.enumerated() { expected |= UInt64(asciiLower(c)) << (8 * UInt64(k)) }
                #expect(folded == expected, "\(bytes)")
            }
        }
    }
}

/// The byte pairs of a long text tell exactly which needles (in any case) have all their pairs in it.
@Suite struct BytePairSetTests {
    @Test func aNeedleMayBeContainedExactlyWhenEachOfItsPairsIsInTheTextInSomeCase() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("aAbBzZ@[`{ -".utf8) + [0x7f, 0x80, 0xff, 0x00]
        func random(_ length: Int) -> [UInt8] {
            (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
        }
        for length in [0, 1, 2, 3, 17, 600] {
            for _ in 0..<20 {
                let text = random(length)
                let pairs = text.withUnsafeBufferPointer { BytePairSet($0) }
                let foldedPairs = Set(
                    (0..<max(text.count - 1, 0)).map { [asciiLower(text[$0]), asciiLower(text[$0 + 1])] }
                )
                for _ in 0..<50 {
                    let needle = random(Int.random(in: 0...4, using: &generator))
                    let expected =
                        needle.count < 2
                        || (1..<needle.count).allSatisfy {
                            foldedPairs.contains([asciiLower(needle[$0 - 1]), asciiLower(needle[$0])])
                        }
                    #expect(pairs.mayContain(needle) == expected, "\(needle) in \(text)")
                }
            }
        }
    }
}

/// A long argv is read once for the guards' literals and its byte pairs, whichever a rule asks for
/// first; no match is lost either way.
@Suite struct CommandLineScanTests {
    /// The first two tests of a long argv search it; its pairs are built for the third.
    @Test func aLongArgvsPairsAreBuiltForItsThirdTest() {
        var long = FilterSubject(
            processEvent(image: "/usr/bin/echo", commandLine: ["echo", String(repeating: "x", count: 1_000)])
        )
        #expect(long.bytePairs(of: .args) == nil)
        #expect(long.bytePairs(of: .args) == nil)
        #expect(long.bytePairs(of: .args) != nil)
        #expect(long.bytePairs(of: .args) != nil)
        #expect(long.bytePairs(of: .cwd) == nil, "only the argv is long")
        var short = FilterSubject(processEvent(image: "/usr/bin/echo", commandLine: ["echo", "hi"]))
        for _ in 0..<4 { #expect(short.bytePairs(of: .args) == nil) }
    }

    @Test func pairsFirstOrLiteralsFirstFindTheSame() throws {
        // `not` leaves the first rule unguarded: its third test reads the argv's byte pairs
        // (built then) before any guard looks for its literals; the second rule is guarded by `evil`.
        let unguarded = try sigmaRule(
            id: "unguarded",
            "    a:\n        CommandLine|contains: 'Harmless'\n    b:\n        CommandLine|contains: 'Quiet'\n"
                + "    c:\n        CommandLine|contains: 'Benign'\n    condition: not a and not b and not c"
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
