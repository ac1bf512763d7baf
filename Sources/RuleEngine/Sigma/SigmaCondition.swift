/// A Sigma `condition` parsed against the rule's search identifiers.
///
/// Grammar (least to most binding): `or`, `and`, `not`, `1 of X` / `all of X` (X a search
/// identifier, a pattern with `*` wildcards, or `them`; names starting with `_` are left out of
/// patterns and `them`), parentheses. Keywords are lower case, as the specification writes them.
indirect enum SigmaCondition: Sendable, Equatable {
    case identifier(String)
    case and([SigmaCondition])
    case or([SigmaCondition])
    case not(SigmaCondition)
}

/// A condition error at a byte offset of the condition text.
struct SigmaConditionError: Error {
    var offset: Int
    var message: String
}

struct SigmaConditionParser {
    private enum TokenKind: Equatable {
        case word(String)
        case open
        case close
        case end
    }

    private struct Token {
        var kind: TokenKind
        var offset: Int
    }

    private var tokens: [Token] = []
    private var position = 0
    /// How many parentheses and `not`s enclose the current token.
    private var depth = 0
    /// Deepest nesting accepted, as in the filter language: parsing, compiling and evaluating
    /// recurse once per level, and a condition of 100,000 `(` overflowed the stack.
    static let maximumDepth = 64
    private let identifiers: [String]

    /// Parses `text`; `identifiers` are the rule's search identifiers in definition order.
    static func parse(_ text: String, identifiers: [String]) throws(SigmaConditionError) -> SigmaCondition {
        var parser = SigmaConditionParser(identifiers: identifiers)
        parser.tokens = tokenize(text)
        let condition = try parser.parseOr()
        guard case .end = parser.current.kind else {
            throw SigmaConditionError(
                offset: parser.current.offset,
                message: "expected 'and', 'or' or the end of the condition, found \(parser.describe(parser.current))"
            )
        }
        return condition
    }

    private init(identifiers: [String]) { self.identifiers = identifiers }

    private static func tokenize(_ text: String) -> [Token] {
        let bytes = Array(text.utf8)
        var tokens: [Token] = []
        var k = 0
        while k < bytes.count {
            let c = bytes[k]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                k += 1
            } else if c == UInt8(ascii: "(") {
                tokens.append(Token(kind: .open, offset: k))
                k += 1
            } else if c == UInt8(ascii: ")") {
                tokens.append(Token(kind: .close, offset: k))
                k += 1
            } else {
                let start = k
                while k < bytes.count,
                    ![0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "("), UInt8(ascii: ")")].contains(bytes[k])
                {
                    k += 1
                }
                tokens.append(Token(kind: .word(String(decoding: bytes[start..<k], as: UTF8.self)), offset: start))
            }
        }
        tokens.append(Token(kind: .end, offset: bytes.count))
        return tokens
    }

    private var current: Token { tokens[position] }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .word(let w): "'\(w)'"
        case .open: "'('"
        case .close: "')'"
        case .end: "the end of the condition"
        }
    }

    private func isWord(_ word: String) -> Bool {
        if case .word(let w) = current.kind { return w == word }
        return false
    }

    private mutating func parseOr() throws(SigmaConditionError) -> SigmaCondition {
        var terms = [try parseAnd()]
        while isWord("or") {
            position += 1
            terms.append(try parseAnd())
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd() throws(SigmaConditionError) -> SigmaCondition {
        var terms = [try parseNot()]
        while isWord("and") {
            position += 1
            terms.append(try parseNot())
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    /// Enters one level of nesting at `token` (a `(` or a `not`); an error past ``maximumDepth``.
    private mutating func enterNesting(at token: Token) throws(SigmaConditionError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw SigmaConditionError(
                offset: token.offset,
                message: "nested deeper than \(Self.maximumDepth) levels of parentheses and 'not'"
            )
        }
    }

    private mutating func parseNot() throws(SigmaConditionError) -> SigmaCondition {
        if isWord("not") {
            try enterNesting(at: current)
            defer { depth -= 1 }
            position += 1
            return .not(try parseNot())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(SigmaConditionError) -> SigmaCondition {
        let token = current
        switch token.kind {
        case .open:
            try enterNesting(at: token)
            defer { depth -= 1 }
            position += 1
            let inner = try parseOr()
            guard case .close = current.kind else {
                throw SigmaConditionError(
                    offset: current.offset,
                    message: "expected ')' to close the '(' at offset \(token.offset), found \(describe(current))"
                )
            }
            position += 1
            return inner
        case .word(let word):
            if word == "and" || word == "or" || word == "of" {
                throw SigmaConditionError(
                    offset: token.offset,
                    message: "expected a search identifier, 'not', '1 of', 'all of' or '(', found '\(word)'"
                )
            }
            if position + 1 < tokens.count, case .word("of") = tokens[position + 1].kind {
                return try parseQuantifier(word, at: token.offset)
            }
            guard identifiers.contains(word) else {
                throw SigmaConditionError(
                    offset: token.offset,
                    message:
                        "unknown search identifier '\(word)' (the detection defines \(identifiers.map { "'\($0)'" }.joined(separator: ", ")))"
                )
            }
            position += 1
            return .identifier(word)
        case .close, .end:
            throw SigmaConditionError(
                offset: token.offset,
                message: "expected a search identifier, 'not', '1 of', 'all of' or '(', found \(describe(token))"
            )
        }
    }

    private mutating func parseQuantifier(
        _ quantifier: String,
        at offset: Int
    ) throws(SigmaConditionError) -> SigmaCondition {
        guard quantifier == "1" || quantifier == "all" else {
            throw SigmaConditionError(
                offset: offset,
                message: "expected '1 of' or 'all of', found '\(quantifier) of' (the specification has no other count)"
            )
        }
        position += 2
        guard case .word(let pattern) = current.kind, pattern != "and", pattern != "or", pattern != "not" else {
            throw SigmaConditionError(
                offset: current.offset,
                message:
                    "expected a search identifier pattern or 'them' after '\(quantifier) of', found \(describe(current))"
            )
        }
        let patternOffset = current.offset
        position += 1
        let named: [String]
        if pattern == "them" {
            named = identifiers.filter { !$0.hasPrefix("_") }
        } else {
            let matcher = SigmaPattern(
                tokens: Array(pattern.utf8).map { $0 == UInt8(ascii: "*") ? .anyRun : .byte($0) },
                cased: true
            )
            named = identifiers.filter { !$0.hasPrefix("_") && matcher.matches($0) }
        }
        guard !named.isEmpty else {
            throw SigmaConditionError(
                offset: patternOffset,
                message:
                    "'\(quantifier) of \(pattern)' names no search identifier (the detection defines \(identifiers.map { "'\($0)'" }.joined(separator: ", ")))"
            )
        }
        let terms = named.map(SigmaCondition.identifier)
        if terms.count == 1 { return terms[0] }
        return quantifier == "1" ? .or(terms) : .and(terms)
    }
}
