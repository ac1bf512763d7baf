/// A number as the rule languages read it: an integer when it has no fraction, else a double.
enum Number: Sendable, Equatable {
    case integer(Int64)
    case double(Double)

    /// Three-way comparison (-1, 0, 1); integers compare exactly, mixed pairs as doubles.
    static func compare(_ a: Number, _ b: Number) -> Int {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        default:
            let x = a.doubleValue
            let y = b.doubleValue
            return x < y ? -1 : (x == y ? 0 : 1)
        }
    }

    var doubleValue: Double {
        switch self {
        case .integer(let i): Double(i)
        case .double(let d): d
        }
    }

    /// Parses decimal text (`-12`, `3.5`); nil when it is not a number.
    static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Number? {
        var value: Int64 = 0
        var negative = false
        var digits = 0
        var sawOther = false
        var first = true
        for c in bytes {
            if first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                negative = c == UInt8(ascii: "-")
                first = false
                continue
            }
            first = false
            guard c >= 0x30, c <= 0x39 else {
                sawOther = true
                break
            }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            if o1 || o2 {
                sawOther = true
                break
            }
            value = s
            digits += 1
        }
        if !sawOther {
            guard digits > 0 else { return nil }
            return .integer(negative ? -value : value)
        }
        // Fractions, exponents and very large integers: only plain decimal syntax is accepted.
        guard bytes.count <= 64,
            bytes.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                    || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
            }),
            bytes.contains(where: { $0 >= 0x30 && $0 <= 0x39 }),
            let d = Double(String(decoding: bytes, as: UTF8.self)), d.isFinite
        else { return nil }
        return .double(d)
    }
}

/// A constant of a filter expression, prepared at load time: its text folded to lower case and its
/// numeric value when it reads as a number.
struct FilterConstant: Sendable, Equatable {
    /// The value as written (string contents without quotes).
    let text: String
    /// `text` with ASCII letters in lower case, for case-insensitive comparison.
    let folded: [UInt8]
    let number: Number?
    /// Whether it was written in double quotes.
    let isQuoted: Bool

    init(text: String, isQuoted: Bool) {
        self.text = text
        self.folded = asciiLowercased(Array(text.utf8))
        self.number = Number.parse(Array(text.utf8))
        self.isQuoted = isQuoted
    }

    /// How the constant is written in a canonical expression.
    var rendered: String {
        guard isQuoted else { return text }
        var out = "\""
        for ch in text.unicodeScalars {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.unicodeScalars.append(ch)
        }
        return out + "\""
    }
}

@inline(__always)
func asciiLower(_ c: UInt8) -> UInt8 {
    c >= 0x41 && c <= 0x5A ? c | 0x20 : c
}

func asciiLowercased(_ bytes: [UInt8]) -> [UInt8] {
    bytes.map(asciiLower)
}

/// `text` with ASCII letters in lower case (other characters unchanged).
func asciiLowercased(_ text: String) -> String {
    if !text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return text }
    return String(decoding: text.utf8.map(asciiLower), as: UTF8.self)
}
