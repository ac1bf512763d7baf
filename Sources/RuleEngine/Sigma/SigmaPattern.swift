/// A Sigma string value compiled for matching UTF-8 bytes: literal text with `*` (any run of
/// characters), `?` (exactly one character) and, from `windash`, a dash class (`-`, `/`, `–`, `—`,
/// `―`). Case is ignored (ASCII letters only) unless the value is `cased`.
///
/// Plain shapes compile to one byte comparison: `abc` (equals), `abc*` (prefix), `*abc` (suffix),
/// `*abc*` (contains), `*` (anything); the rest go through a glob matcher.
struct SigmaPattern: Sendable, Equatable {
    /// One element of a value: a literal byte (already folded when not cased) or a wildcard.
    enum Token: Sendable, Equatable {
        case byte(UInt8)
        case anyRun
        case anyCharacter
        case dash
    }

    enum Shape: Sendable, Equatable {
        case equals([UInt8])
        case prefix([UInt8])
        case suffix([UInt8])
        case contains([UInt8])
        case anything
        case glob([Token])

        /// A plain shape's placement and bytes (`equals`, `prefix`, `suffix`, `contains`); nil for
        /// `anything` and `glob`.
        var placed: (placement: Placement, bytes: [UInt8])? {
            switch self {
            case .equals(let b): (.equals, b)
            case .prefix(let b): (.prefix, b)
            case .suffix(let b): (.suffix, b)
            case .contains(let b): (.contains, b)
            case .anything, .glob: nil
            }
        }
    }

    let shape: Shape
    let cased: Bool

    init(tokens: [Token], cased: Bool) {
        self.cased = cased
        var folded: [Token] = []
        folded.reserveCapacity(tokens.count)
        for token in tokens {
            if token == .anyRun, folded.last == .anyRun { continue }  // `**` is `*`
            if !cased, case .byte(let b) = token { folded.append(.byte(asciiLower(b))) } else { folded.append(token) }
        }
        self.shape = Self.shape(of: folded)
    }

    private static func shape(of tokens: [Token]) -> Shape {
        var inner = tokens[...]
        let leadingRun = inner.first == .anyRun
        let trailingRun = inner.count > (leadingRun ? 1 : 0) && inner.last == .anyRun
        if leadingRun { inner = inner.dropFirst() }
        if trailingRun { inner = inner.dropLast() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(inner.count)
        for token in inner {
            guard case .byte(let b) = token else { return .glob(tokens) }
            bytes.append(b)
        }
        switch (leadingRun, trailingRun) {
        case (false, false): return .equals(bytes)
        case (false, true): return .prefix(bytes)
        case (true, false): return bytes.isEmpty ? .anything : .suffix(bytes)
        case (true, true): return bytes.isEmpty ? .anything : .contains(bytes)
        }
    }

    /// Whether the whole of `text` matches.
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        switch shape {
        case .anything: return true
        case .glob(let tokens): return glob(tokens, text)
        case .equals, .prefix, .suffix, .contains:
            let (placement, bytes) = shape.placed!
            return bytes.withUnsafeBufferPointer { Self.holds(placement, of: $0, cased: cased, in: text) }
        }
    }

    func matches(_ text: String) -> Bool {
        withUTF8Bytes(text) { matches($0) }
    }

    /// Where a plain shape's bytes must be in the text.
    enum Placement: Equatable {
        case equals, prefix, suffix, contains
    }

    /// Whether `bytes` (folded unless `cased`) are in `text` where `placement` says: the plain
    /// shapes' matching, also called with bytes held apart from a pattern (``SigmaFieldTest``).
    @inline(__always)
    static func holds(
        _ placement: Placement,
        of bytes: UnsafeBufferPointer<UInt8>,
        cased: Bool,
        in text: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        switch placement {
        case .equals: return text.count == bytes.count && equal(text, 0, bytes, cased: cased)
        case .prefix: return text.count >= bytes.count && equal(text, 0, bytes, cased: cased)
        case .suffix: return text.count >= bytes.count && equal(text, text.count - bytes.count, bytes, cased: cased)
        case .contains: return contains(text, bytes, cased: cased)
        }
    }

    /// Whether `needle` (folded unless `cased`, not empty) occurs in `text`. Eight positions at a
    /// time are looked at for the needle's first byte (with bit 0x20 set in both when not
    /// `cased`: the same for both cases of a letter); only where it may be is the needle compared.
    private static func contains(
        _ text: UnsafeBufferPointer<UInt8>,
        _ needle: UnsafeBufferPointer<UInt8>,
        cased: Bool
    )
        -> Bool
    {
        guard text.count >= needle.count, !needle.isEmpty else { return text.count >= needle.count }
        let last = text.count - needle.count  // the last position the needle can start at
        let ones: UInt64 = 0x0101_0101_0101_0101
        let caseBit: UInt64 = cased ? 0 : 0x20 &* ones
        let first = UInt64(needle[0]) &* ones | caseBit
        var start = 0
        while start + 8 <= text.count, start <= last {
            let word = UInt64(littleEndian: UnsafeRawPointer(text.baseAddress! + start).loadUnaligned(as: UInt64.self))
            let x = (word | caseBit) ^ first  // a zero byte where the first byte may be
            var zeros = (x &- ones) & ~x & (0x80 &* ones)  // each zero byte flagged (and maybe others: checked)
            while zeros != 0 {
                let at = start + zeros.trailingZeroBitCount >> 3
                if at <= last, equal(text, at, needle, cased: cased) { return true }
                zeros &= zeros &- 1
            }
            start += 8
        }
        while start <= last {
            if equal(text, start, needle, cased: cased) { return true }
            start += 1
        }
        return false
    }

    /// Whether `bytes` (folded unless `cased`) are in `text` at `start`.
    @inline(__always)
    private static func equal(
        _ text: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ bytes: UnsafeBufferPointer<UInt8>,
        cased: Bool
    ) -> Bool {
        var k = 0
        if cased {
            while k < bytes.count {
                if text[start + k] != bytes[k] { return false }
                k += 1
            }
        } else {
            while k < bytes.count {
                if asciiLower(text[start + k]) != bytes[k] { return false }
                k += 1
            }
        }
        return true
    }

    @inline(__always)
    private func fold(_ c: UInt8) -> UInt8 { cased ? c : asciiLower(c) }

    /// Glob matching with one backtracking point (the last `*`), linear in practice.
    private func glob(_ tokens: [Token], _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var t = 0
        var s = 0
        var starToken = -1
        var starText = 0
        while s < text.count {
            if t < tokens.count {
                switch tokens[t] {
                case .anyRun:
                    starToken = t
                    starText = s
                    t += 1
                    continue
                case .byte(let b):
                    if fold(text[s]) == b {
                        t += 1
                        s += 1
                        continue
                    }
                case .anyCharacter:
                    t += 1
                    s += Self.characterLength(text, s)
                    continue
                case .dash:
                    if let n = Self.dashLength(text, s) {
                        t += 1
                        s += n
                        continue
                    }
                }
            }
            guard starToken >= 0 else { return false }
            starText += 1
            // Resume after the star at a character boundary.
            while starText < text.count, text[starText] & 0xC0 == 0x80 { starText += 1 }
            s = starText
            t = starToken + 1
        }
        while t < tokens.count, tokens[t] == .anyRun { t += 1 }
        return t == tokens.count && s == text.count
    }

    /// The length of the UTF-8 character starting at `s` (1 for a stray byte).
    static func characterLength(_ text: UnsafeBufferPointer<UInt8>, _ s: Int) -> Int {
        var n = 1
        while s + n < text.count, text[s + n] & 0xC0 == 0x80 { n += 1 }
        return n
    }

    /// The length of a dash-class character at `s`: `-` or `/` (1), `–` `—` `―` (E2 80 93..95, 3).
    static func dashLength(_ text: UnsafeBufferPointer<UInt8>, _ s: Int) -> Int? {
        let c = text[s]
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "/") { return 1 }
        if c == 0xE2, s + 2 < text.count, text[s + 1] == 0x80, (0x93...0x95).contains(text[s + 2]) { return 3 }
        return nil
    }

    /// The last path component of every text the pattern matches, when the pattern fixes it:
    /// it ends in literal bytes (no wildcard, no dash class) that hold a `/` followed by at least
    /// one byte (`*/nc`, `/usr/bin/nc`, `/*/nc`), or it equals a literal without `/` (`nc`).
    /// Folded to lower case unless `cased` (an index comparing ignoring case finds it either way).
    var requiredLastComponent: String? {
        let tail: [UInt8]
        let mustHaveSlash: Bool
        switch shape {
        case .equals(let b):
            (tail, mustHaveSlash) = (b, false)
        case .suffix(let b):
            (tail, mustHaveSlash) = (b, true)
        case .glob(let tokens):
            var bytes: [UInt8] = []
            for token in tokens.reversed() {
                guard case .byte(let b) = token else { break }
                bytes.append(b)
            }
            (tail, mustHaveSlash) = (bytes.reversed(), true)
        case .prefix, .contains, .anything:
            return nil
        }
        let slash = tail.lastIndex(of: UInt8(ascii: "/"))
        if mustHaveSlash && slash == nil { return nil }
        let component = tail[(slash.map { $0 + 1 } ?? 0)...]
        guard !component.isEmpty else { return nil }
        return String(decoding: component, as: UTF8.self)
    }

    /// The longest run of literal bytes (between wildcards and dash classes) that every text the
    /// pattern matches contains; empty when there is none (`*`).
    var longestLiteral: [UInt8] {
        switch shape {
        case .equals(let b), .prefix(let b), .suffix(let b), .contains(let b): return b
        case .anything: return []
        case .glob(let tokens):
            var longest: [UInt8] = []
            var run: [UInt8] = []
            for token in tokens {
                if case .byte(let b) = token {
                    run.append(b)
                    if run.count > longest.count { longest = run }
                } else {
                    run = []
                }
            }
            return longest
        }
    }

    /// How the pattern reads back (for rule listings and definitions).
    var rendered: String {
        func text(_ bytes: [UInt8]) -> String {
            var out: [UInt8] = []
            for b in bytes {
                if b == UInt8(ascii: "*") || b == UInt8(ascii: "?") || b == UInt8(ascii: "\\") {
                    out.append(UInt8(ascii: "\\"))
                }
                out.append(b)
            }
            return String(decoding: out, as: UTF8.self)
        }
        let body: String
        switch shape {
        case .anything: body = "*"
        case .equals(let b): body = text(b)
        case .prefix(let b): body = text(b) + "*"
        case .suffix(let b): body = "*" + text(b)
        case .contains(let b): body = "*" + text(b) + "*"
        case .glob(let tokens):
            var out = ""
            var pending: [UInt8] = []
            for token in tokens {
                if case .byte(let b) = token {
                    pending.append(b)
                    continue
                }
                out += text(pending)
                pending = []
                switch token {
                case .anyRun: out += "*"
                case .anyCharacter: out += "?"
                case .dash: out += "[-/–—―]"
                case .byte: break
                }
            }
            body = out + text(pending)
        }
        return "'" + body + "'" + (cased ? " cased" : "")
    }
}

extension SigmaPattern {
    /// Reads a Sigma value: `*` and `?` are wildcards; `\*`, `\?` and `\\` stand for the character
    /// itself; a backslash before anything else is a plain backslash (the specification's
    /// "Escape Character" section).
    /// (With room for two more tokens: the `*` that `contains`/`startswith`/`endswith` add.)
    static func tokens(of value: String) -> [Token] {
        withUTF8Bytes(value) { tokens(ofBytes: $0) }
    }

    private static func tokens(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(bytes.count + 2)
        var k = 0
        while k < bytes.count {
            let c = bytes[k]
            if c == UInt8(ascii: "\\"), k + 1 < bytes.count,
                bytes[k + 1] == UInt8(ascii: "*") || bytes[k + 1] == UInt8(ascii: "?")
                    || bytes[k + 1] == UInt8(ascii: "\\")
            {
                tokens.append(.byte(bytes[k + 1]))
                k += 2
                continue
            }
            switch c {
            case UInt8(ascii: "*"): tokens.append(.anyRun)
            case UInt8(ascii: "?"): tokens.append(.anyCharacter)
            default: tokens.append(.byte(c))
            }
            k += 1
        }
        return tokens
    }

    /// Literal text as tokens (no wildcards), e.g. a base64 encoding.
    static func literal(_ bytes: [UInt8]) -> [Token] { bytes.map(Token.byte) }
}
