/// One lexical token of the filter and aggregate languages, with its byte range in the expression.
struct Token: Equatable {
    enum Kind: Equatable {
        /// An attribute name or keyword (`procName`, `AND`, `COUNT`); keywords are matched case-insensitively.
        case word(String)
        /// A double-quoted string, escapes resolved.
        case string(String)
        /// A bare number (`500`, `-1`, `2.5`) or another bare value that starts with a digit (`10.0.0.1`).
        case bare(String)
        /// A run of comparison characters: `=`, `!=`, `<`, `<=`, `>`, `>=` (or an invalid run like `==`).
        case comparison(String)
        case leftParen, rightParen, comma, star
        case end
    }

    var kind: Kind
    var start: Int
    var end: Int

    /// The word in upper case, if this token is a word (keywords are case-insensitive).
    var keyword: String? {
        guard case .word(let w) = kind else { return nil }
        return String(decoding: w.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    func isKeyword(_ k: String) -> Bool { keyword == k }

    /// How the token reads in an error message.
    var quoted: String {
        switch kind {
        case .word(let w): "'\(w)'"
        case .string(let s): "\"\(s)\""
        case .bare(let b): "'\(b)'"
        case .comparison(let c): "'\(c)'"
        case .leftParen: "'('"
        case .rightParen: "')'"
        case .comma: "','"
        case .star: "'*'"
        case .end: "the end of the expression"
        }
    }
}
