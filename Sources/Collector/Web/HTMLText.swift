/// Builds an HTML document in a byte buffer; every piece of data goes through ``text(_:)`` or
/// ``attribute(_:)``, which escape it.
struct HTMLText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Markup written by this program (never data).
    mutating func markup(_ markup: StaticString) {
        markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Data as element content or as a quoted attribute value: `& < > " '` become entities;
    /// control characters and bidirectional overrides (which could disguise the rest of a
    /// command line) are shown as `\xNN` / `\u{NNNN}`.
    mutating func text(_ text: String) {
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x26: append("&amp;")
            case 0x3C: append("&lt;")
            case 0x3E: append("&gt;")
            case 0x22: append("&quot;")
            case 0x27: append("&#39;")
            case 0x00..<0x20, 0x7F..<0xA0:
                let digits = Array("0123456789abcdef".utf8)
                append("\\x")
                bytes.append(digits[Int(scalar.value >> 4)])
                bytes.append(digits[Int(scalar.value & 0xF)])
            case 0x202A...0x202E, 0x2066...0x2069:
                append("\\u{" + String(scalar.value, radix: 16) + "}")
            default:
                bytes.append(contentsOf: String(Character(scalar)).utf8)
            }
        }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }
}
