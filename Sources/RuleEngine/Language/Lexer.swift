/// Splits a filter or aggregate expression into tokens.
///
/// Strings are double-quoted; `\"` and `\\` are escapes, any other backslash is kept with the character
/// after it (so `REGEXP "\d+"` reaches the regex engine as `\d+`).
struct Lexer {
    private let b: [UInt8]
    private var i = 0

    init(_ text: String) {
        b = Array(text.utf8)
    }

    static func tokenize(_ text: String) throws(ExpressionError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    mutating func next() throws(ExpressionError) -> Token {
        while i < b.count, isXMLSpace(b[i]) { i += 1 }
        let start = i
        guard i < b.count else { return Token(kind: .end, start: i, end: i) }
        let c = b[i]
        switch c {
        case UInt8(ascii: "("):
            i += 1
            return Token(kind: .leftParen, start: start, end: i)
        case UInt8(ascii: ")"):
            i += 1
            return Token(kind: .rightParen, start: start, end: i)
        case UInt8(ascii: ","):
            i += 1
            return Token(kind: .comma, start: start, end: i)
        case UInt8(ascii: "*"):
            i += 1
            return Token(kind: .star, start: start, end: i)
        case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"):
            while i < b.count,
                b[i] == UInt8(ascii: "=") || b[i] == UInt8(ascii: "!") || b[i] == UInt8(ascii: "<")
                    || b[i] == UInt8(ascii: ">")
            {
                i += 1
            }
            return Token(kind: .comparison(text(start, i)), start: start, end: i)
        case UInt8(ascii: "\""):
            return try string()
        default:
            break
        }
        if isDigit(c)
            || (c == UInt8(ascii: "-") && i + 1 < b.count && (isDigit(b[i + 1]) || b[i + 1] == UInt8(ascii: ".")))
        {
            i += 1
            while i < b.count, isBareChar(b[i]) { i += 1 }
            return Token(kind: .bare(text(start, i)), start: start, end: i)
        }
        if isWordStart(c) {
            i += 1
            while i < b.count, isWordChar(b[i]) { i += 1 }
            return Token(kind: .word(text(start, i)), start: start, end: i)
        }
        var end = i + 1
        while end < b.count, b[end] & 0xC0 == 0x80 { end += 1 }
        throw ExpressionError(offset: start, message: "unexpected character '\(text(start, end))'")
    }

    private mutating func string() throws(ExpressionError) -> Token {
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count else {
                throw ExpressionError(
                    offset: start,
                    message: "unterminated string: expected '\"' to close the string started here"
                )
            }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return Token(kind: .string(String(decoding: out, as: UTF8.self)), start: start, end: i)
            }
            if c == UInt8(ascii: "\\"), i + 1 < b.count {
                let e = b[i + 1]
                if e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") {
                    out.append(e)
                } else {
                    out.append(c)
                    out.append(e)
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: b[from..<to], as: UTF8.self)
    }
}

private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

private func isWordStart(_ c: UInt8) -> Bool {
    (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "@")
        || c == UInt8(ascii: "$")
}

private func isWordChar(_ c: UInt8) -> Bool {
    isWordStart(c) || isDigit(c) || c == UInt8(ascii: ".")
}

/// Characters of a bare value starting with a digit: numbers, IP addresses, MAC addresses, versions.
private func isBareChar(_ c: UInt8) -> Bool {
    isDigit(c) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == UInt8(ascii: ".")
        || c == UInt8(ascii: ":") || c == UInt8(ascii: "_")
}
