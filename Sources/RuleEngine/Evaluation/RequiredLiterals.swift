/// Texts one of which every match of a regular expression contains, read from the pattern's source
/// at load time: a text that contains none of them cannot match, so the regex need not run on it.
///
/// `(?:\s|^)-(W|R)\s` gives `-W` or `-R`; `foo|bar` gives `foo` or `bar`; `a.*b` gives `a` (or `b`,
/// equally long); `(?i)abc` gives `abc` compared ignoring ASCII case. Only what the pattern provably
/// requires counts: optional atoms (`?`, `*`, `{0,n}`), character classes, lookarounds and every
/// construct the reader does not know leave no literal, and a pattern with a construct that could
/// change what its other characters mean (`\Q…\E`, `(?x)`, back references, escapes with arguments)
/// gets none at all, so it runs as before.
struct RequiredLiterals: Sendable, Equatable {
    /// The alternatives, each a `contains` pattern (folded when the regex ignores case).
    let needles: [SigmaPattern]
    /// The needles' bytes (for ``BytePairSet`` checks of long texts).
    let bytes: [[UInt8]]

    init(_ alternatives: [[UInt8]], ignoringCase: Bool) {
        bytes = alternatives
        needles = alternatives.map {
            SigmaPattern(tokens: [.anyRun] + SigmaPattern.literal($0) + [.anyRun], cased: !ignoringCase)
        }
    }

    /// False when the text holds none of the needles: then the regex cannot match it.
    func mayMatch(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        for needle in needles where needle.matches(text) { return true }
        return false
    }

    /// False when no needle can be in a text with these byte pairs.
    func mayMatch(pairs: BytePairSet) -> Bool {
        for needle in bytes where pairs.mayContain(needle) { return true }
        return false
    }

    /// What a pattern requires; nil when it requires no literal or uses a construct not read here.
    /// `canonicalEquivalence`: the regex compares characters by canonical equivalence (Swift's
    /// default grapheme semantics), under which `K` also matches the Kelvin sign.
    static func of(pattern: String, canonicalEquivalence: Bool) -> RequiredLiterals? {
        var reader = RegexLiteralReader(Array(pattern.utf8), canonicalEquivalence: canonicalEquivalence)
        guard let facts = try? reader.readPattern(), let required = facts.required else { return nil }
        let folded = reader.ignoresCase ? Set(required.map(asciiLowercased)) : Set(required)
        return RequiredLiterals(folded.sorted { $0.lexicographicallyPrecedes($1) }, ignoringCase: reader.ignoresCase)
    }
}

/// Reads a regular expression's source (the syntax of Swift's `Regex`, PCRE's) for the literal
/// texts its matches must contain. Conservative: whatever it is not sure of is opaque (requires
/// nothing), and constructs that could change the meaning of the rest stop it (``Unsupported``).
struct RegexLiteralReader {
    /// What a part of a pattern tells: `exact`, every text it can match (when few and all known);
    /// `required`, texts one of which every match contains (nil: none known).
    struct Facts {
        var exact: [[UInt8]]?
        var required: [[UInt8]]?

        static let opaque = Facts(exact: nil, required: nil)
    }

    struct Unsupported: Error {}

    /// More alternatives than this make a part opaque (a check of each would cost more than it saves).
    static let maximumAlternatives = 16

    private let bytes: [UInt8]
    private let canonicalEquivalence: Bool
    private var k = 0
    private var depth = 0
    /// Whether an `i` flag (`(?i)`, `(?i:`, `(?-i)`) appears anywhere: then every literal is
    /// compared ignoring case (a superset of what any part of the pattern matches).
    let ignoresCase: Bool

    init(_ bytes: [UInt8], canonicalEquivalence: Bool) {
        self.bytes = bytes
        self.canonicalEquivalence = canonicalEquivalence
        self.ignoresCase = Self.hasCaseFlag(bytes)
    }

    /// Whether some `(?` is followed by flag characters holding an `i` (read before the pattern,
    /// so that literals before the flag are compared ignoring case too).
    private static func hasCaseFlag(_ bytes: [UInt8]) -> Bool {
        var j = 0
        while j + 1 < bytes.count {
            defer { j += 1 }
            guard bytes[j] == UInt8(ascii: "("), bytes[j + 1] == UInt8(ascii: "?") else { continue }
            var f = j + 2
            while f < bytes.count, bytes[f] != UInt8(ascii: ")"), bytes[f] != UInt8(ascii: ":") {
                if bytes[f] == UInt8(ascii: "i") { return true }
                f += 1
            }
        }
        return false
    }

    mutating func readPattern() throws(Unsupported) -> Facts {
        let facts = try readAlternation()
        guard k == bytes.count else { throw Unsupported() }  // a `)` without its `(`
        return facts
    }

    private var current: UInt8? { k < bytes.count ? bytes[k] : nil }

    private mutating func readAlternation() throws(Unsupported) -> Facts {
        var branches = [try readSequence()]
        while current == UInt8(ascii: "|") {
            k += 1
            branches.append(try readSequence())
        }
        if branches.count == 1 { return branches[0] }
        var exact: [[UInt8]]? = []
        var required: [[UInt8]]? = []
        for branch in branches {
            if let e = branch.exact, exact != nil { exact! += e } else { exact = nil }
            if let r = branch.required, required != nil { required! += r } else { required = nil }
        }
        return Facts(exact: Self.bounded(exact), required: Self.bounded(required))
    }

    /// Atoms up to `|`, `)` or the end: runs of exact atoms concatenate; the best run or required
    /// set of an atom is what the sequence requires.
    private mutating func readSequence() throws(Unsupported) -> Facts {
        var run: [[UInt8]] = [[]]
        var allExact = true
        var candidates: [[[UInt8]]] = []
        while let c = current, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
            let atom = try readQuantifiedAtom()
            if let e = atom.exact {
                if let joined = Self.bounded(Self.concatenate(run, e)) {
                    run = joined
                } else {
                    // Too many combinations: the run so far and this atom are required one after
                    // the other, but the texts of the whole are no longer known.
                    allExact = false
                    candidates.append(run)
                    run = e
                }
            } else {
                allExact = false
                candidates.append(run)
                if let r = atom.required { candidates.append(r) }
                run = [[]]
            }
        }
        candidates.append(run)
        return Facts(exact: allExact ? run : nil, required: Self.best(candidates))
    }

    private mutating func readQuantifiedAtom() throws(Unsupported) -> Facts {
        let atom = try readAtom()
        guard let minimum = try readQuantifier() else { return atom }
        // Lazy and possessive forms repeat the same way.
        if current == UInt8(ascii: "?") || current == UInt8(ascii: "+") { k += 1 }
        guard minimum > 0 else { return .opaque }
        return Facts(exact: nil, required: atom.required)
    }

    /// The least count of a quantifier at `k` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, `{,m}`),
    /// nil when there is none.
    private mutating func readQuantifier() throws(Unsupported) -> Int? {
        switch current {
        case UInt8(ascii: "*"), UInt8(ascii: "?"):
            k += 1
            return 0
        case UInt8(ascii: "+"):
            k += 1
            return 1
        case UInt8(ascii: "{"):
            guard let (minimum, end) = braceQuantifier(at: k) else { return nil }
            k = end
            return minimum
        default:
            return nil
        }
    }

    /// A `{n}`, `{n,}`, `{n,m}` or `{,m}` at `start`: its least count and the index after it.
    private func braceQuantifier(at start: Int) -> (Int, Int)? {
        var j = start + 1
        var minimum = 0
        var digits = 0
        while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39, digits < 6 {
            minimum = minimum * 10 + Int(bytes[j] - 0x30)
            digits += 1
            j += 1
        }
        var sawComma = false
        if j < bytes.count, bytes[j] == UInt8(ascii: ",") {
            sawComma = true
            j += 1
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 { j += 1 }
        }
        guard j < bytes.count, bytes[j] == UInt8(ascii: "}"), digits > 0 || sawComma else { return nil }
        return (minimum, j + 1)
    }

    private mutating func readAtom() throws(Unsupported) -> Facts {
        let c = bytes[k]
        switch c {
        case UInt8(ascii: "("):
            return try readGroup()
        case UInt8(ascii: "["):
            try skipClass()
            return .opaque
        case UInt8(ascii: "\\"):
            return try readEscape()
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw Unsupported()  // a quantifier without an atom does not compile anyway
        case UInt8(ascii: "{"), UInt8(ascii: "}"):
            // A quantifier without an atom, or a brace some syntax reads as one (`{ 2 }`): not read.
            throw Unsupported()
        case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
            k += 1
            return .opaque
        case 0x80...:
            // A non-ASCII character (compared by scalars, graphemes or case mappings): not relied on.
            k += 1
            while let next = current, next & 0xC0 == 0x80 { k += 1 }
            return .opaque
        case ..<0x20, 0x7F:
            k += 1
            return .opaque
        default:
            k += 1
            return literal(c)
        }
    }

    /// One ASCII character standing for itself, unless another character may match it too: under
    /// canonical equivalence `K`, `;` and `` ` `` (the Kelvin sign, U+037E, U+1FEF); ignoring case
    /// `k` and `s` (the Kelvin sign and long s fold to them).
    private func literal(_ c: UInt8) -> Facts {
        if canonicalEquivalence, c == UInt8(ascii: "K") || c == UInt8(ascii: ";") || c == UInt8(ascii: "`") {
            return .opaque
        }
        if ignoresCase, asciiLower(c) == UInt8(ascii: "k") || asciiLower(c) == UInt8(ascii: "s") { return .opaque }
        return Facts(exact: [[c]], required: [[c]])
    }

    private mutating func readEscape() throws(Unsupported) -> Facts {
        guard k + 1 < bytes.count else { throw Unsupported() }
        let e = bytes[k + 1]
        k += 2
        switch e {
        case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "|"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "\\"), UInt8(ascii: "/"),
            UInt8(ascii: "-"), UInt8(ascii: " "), UInt8(ascii: "#"), UInt8(ascii: "\""), UInt8(ascii: "'"),
            UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: ","), UInt8(ascii: "@"),
            UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "~"), UInt8(ascii: "_"):
            return literal(e)
        case UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "w"), UInt8(ascii: "W"), UInt8(ascii: "s"),
            UInt8(ascii: "S"), UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "v"), UInt8(ascii: "V"),
            UInt8(ascii: "R"), UInt8(ascii: "X"), UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "A"),
            UInt8(ascii: "z"), UInt8(ascii: "Z"), UInt8(ascii: "G"), UInt8(ascii: "t"), UInt8(ascii: "n"),
            UInt8(ascii: "r"), UInt8(ascii: "f"), UInt8(ascii: "e"), UInt8(ascii: "a"):
            return .opaque  // a class, an anchor or a control character
        case UInt8(ascii: "N") where current != UInt8(ascii: "{"):
            return .opaque  // any character but a newline
        default:
            // Back references, \Q…\E, \x.., \u{..}, \p{..}, \k<..>, \g.., \K and the unknown.
            throw Unsupported()
        }
    }

    /// Skips a character class `[…]` (nested classes and POSIX `[:name:]` included).
    private mutating func skipClass() throws(Unsupported) {
        var nesting = 0
        repeat {
            // At a `[`: its optional `^` and a leading `]` belong to the class.
            k += 1
            nesting += 1
            if current == UInt8(ascii: "^") { k += 1 }
            if current == UInt8(ascii: "]") { k += 1 }
            while let c = current, c != UInt8(ascii: "[") {
                k += 1
                if c == UInt8(ascii: "\\") {
                    // `\Q…\E` quotes a `]`: not read.
                    guard let escaped = current, escaped != UInt8(ascii: "Q") else { throw Unsupported() }
                    k += 1
                } else if c == UInt8(ascii: "]") {
                    nesting -= 1
                    if nesting == 0 { return }
                }
            }
        } while current != nil
        throw Unsupported()
    }

    private mutating func readGroup() throws(Unsupported) -> Facts {
        depth += 1
        guard depth <= 64 else { throw Unsupported() }
        defer { depth -= 1 }
        k += 1  // `(`
        var analyzed = true
        if current == UInt8(ascii: "*") { throw Unsupported() }  // (*VERB)
        if current == UInt8(ascii: "?") {
            k += 1
            let next = k + 1 < bytes.count ? bytes[k + 1] : 0
            switch current {
            case UInt8(ascii: ":"):
                k += 1
            case UInt8(ascii: "<") where next == UInt8(ascii: "=") || next == UInt8(ascii: "!"):
                k += 2
                analyzed = false  // lookbehind
            case UInt8(ascii: "<"), UInt8(ascii: "'"), UInt8(ascii: "P"):
                try skipGroupName()
            case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: ">"), UInt8(ascii: "|"):
                k += 1
                analyzed = false  // lookahead, atomic group, branch reset
            default:
                if try readFlags() { return .opaque }  // `(?i)`: sets flags, matches nothing
            }
        }
        let inner = try readAlternation()
        guard current == UInt8(ascii: ")") else { throw Unsupported() }
        k += 1
        return analyzed ? inner : .opaque
    }

    /// `<name>`, `'name'` or `P<name>` after `(?`.
    private mutating func skipGroupName() throws(Unsupported) {
        if current == UInt8(ascii: "P") { k += 1 }
        guard let open = current, open == UInt8(ascii: "<") || open == UInt8(ascii: "'") else { throw Unsupported() }
        let close = open == UInt8(ascii: "<") ? UInt8(ascii: ">") : open
        k += 1
        while let c = current, c != close {
            let isNameByte =
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "_")
            guard isNameByte else { throw Unsupported() }
            k += 1
        }
        guard current == close else { throw Unsupported() }
        k += 1
    }

    /// Flags after `(?`: `i` makes every literal compare ignoring case; `x` (spaces and `#` become
    /// syntax) stops the reader. Returns true for `(?flags)`, false for `(?flags:` (a group follows).
    private mutating func readFlags() throws(Unsupported) -> Bool {
        while let c = current, c != UInt8(ascii: ")"), c != UInt8(ascii: ":") {
            let isLetter = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            guard isLetter || c == UInt8(ascii: "-") || c == UInt8(ascii: "^") else { throw Unsupported() }
            if c == UInt8(ascii: "x") { throw Unsupported() }
            k += 1
        }
        guard let end = current else { throw Unsupported() }
        k += 1
        return end == UInt8(ascii: ")")
    }

    // MARK: - Sets of texts

    private static func concatenate(_ a: [[UInt8]], _ b: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for x in a { for y in b { out.append(x + y) } }
        return out
    }

    /// The set without duplicates, nil when it has too many texts.
    private static func bounded(_ set: [[UInt8]]?) -> [[UInt8]]? {
        guard let set else { return nil }
        var unique: [[UInt8]] = []
        for text in set where !unique.contains(text) { unique.append(text) }
        return unique.count <= maximumAlternatives ? unique : nil
    }

    /// The most selective candidate: the one whose shortest text is longest (then the fewest
    /// texts). A set holding the empty text requires nothing.
    private static func best(_ candidates: [[[UInt8]]]) -> [[UInt8]]? {
        var best: [[UInt8]]?
        var bestShortest = 0
        for candidate in candidates {
            guard let shortest = candidate.map(\.count).min(), shortest > 0 else { continue }
            if best == nil || shortest > bestShortest || (shortest == bestShortest && candidate.count < best!.count) {
                best = candidate
                bestShortest = shortest
            }
        }
        return best
    }
}
