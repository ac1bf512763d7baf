/// A small non-validating XML 1.0 parser for rule files.
///
/// It reads elements, attributes (single or double quotes), character data, CDATA sections and the
/// five predefined entities plus numeric character references; it skips the XML declaration,
/// processing instructions, comments and the DOCTYPE (internal subsets included, their entity
/// declarations are not applied). It does not depend on libxml2, so static binaries stay small.
/// The first well-formedness error ends parsing, as XML requires.
public struct XMLParser {
    private let bytes: [UInt8]
    private var i = 0
    private let locator: SourceLocator
    /// Elements open around the one being read.
    private var depth = 0
    /// Deepest element nesting accepted: parsing recurses once per level, so a file of 100,000
    /// `<a>` would overflow the stack. Rule files nest five levels.
    static let maximumDepth = 256

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        self.locator = SourceLocator(bytes)
    }

    /// Parses a whole document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws(XMLParseError) -> XMLElement {
        var parser = XMLParser(bytes: bytes)
        return try parser.parseDocument()
    }

    public static func parse(_ text: String) throws(XMLParseError) -> XMLElement {
        try parse(Array(text.utf8))
    }

    // MARK: - Document

    mutating func parseDocument() throws(XMLParseError) -> XMLElement {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // UTF-8 byte order mark
        try skipMisc(allowDoctype: true)
        guard i < bytes.count else { throw fail(at: i, "expected a root element, found the end of the file") }
        guard bytes[i] == UInt8(ascii: "<") else { throw fail(at: i, "expected '<' to start the root element") }
        let root = try parseElement()
        try skipMisc(allowDoctype: false)
        if i < bytes.count {
            throw fail(at: i, "unexpected content after the root element </\(root.name)>: expected the end of the file")
        }
        return root
    }

    /// Skips white space, comments, processing instructions and (before the root) a DOCTYPE.
    private mutating func skipMisc(allowDoctype: Bool) throws(XMLParseError) {
        while true {
            skipSpace()
            if looking(at: "<?") {
                try skipProcessingInstruction()
            } else if looking(at: "<!--") {
                try skipComment()
            } else if looking(at: "<!DOCTYPE") {
                guard allowDoctype else { throw fail(at: i, "unexpected DOCTYPE after the root element") }
                try skipDoctype()
            } else {
                return
            }
        }
    }

    // MARK: - Elements

    private mutating func parseElement() throws(XMLParseError) -> XMLElement {
        let start = i
        i += 1  // '<'
        let name = try parseName(what: "an element name after '<'")
        var element = XMLElement(name: name, offset: start)
        // Attributes.
        while true {
            let hadSpace = skipSpace()
            guard i < bytes.count else {
                throw fail(at: i, "unexpected end of file: expected '>' to close <\(name)>")
            }
            if bytes[i] == UInt8(ascii: ">") {
                i += 1
                break
            }
            if looking(at: "/>") {
                i += 2
                element.text = DecodedText(startOffset: i)
                return element
            }
            guard hadSpace, isNameStart(bytes[i]) else {
                throw fail(at: i, "expected '>' to close <\(name)>")
            }
            let attribute = try parseAttribute(elementName: name)
            if element.attributes.contains(where: { $0.name == attribute.name }) {
                throw fail(at: attribute.offset, "duplicate attribute \(attribute.name) on <\(name)>")
            }
            element.attributes.append(attribute)
        }
        // Content.
        var text = DecodedText(startOffset: i)
        while true {
            guard i < bytes.count else {
                let p = locator.position(ofOffset: start)
                throw fail(
                    at: i,
                    "unexpected end of file: expected </\(name)> to close <\(name)> opened at line \(p.line), column \(p.column)"
                )
            }
            let c = bytes[i]
            if c == UInt8(ascii: "<") {
                if looking(at: "</") {
                    let endStart = i
                    i += 2
                    let endName = try parseName(what: "an element name after '</'")
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else {
                        throw fail(at: i, "expected '>' to close </\(endName)>")
                    }
                    guard endName == name else {
                        let p = locator.position(ofOffset: start)
                        throw fail(
                            at: endStart,
                            "mismatched end tag </\(endName)>: expected </\(name)> to close <\(name)> opened at line \(p.line), column \(p.column)"
                        )
                    }
                    i += 1
                    element.text = text
                    return element
                } else if looking(at: "<!--") {
                    try skipComment()
                } else if looking(at: "<![CDATA[") {
                    try parseCDATA(into: &text)
                } else if looking(at: "<?") {
                    try skipProcessingInstruction()
                } else if looking(at: "<!") {
                    throw fail(
                        at: i,
                        "unexpected '<!' in the content of <\(name)>: expected a comment or CDATA section"
                    )
                } else {
                    depth += 1
                    guard depth <= Self.maximumDepth else {
                        throw fail(at: i, "elements nested deeper than \(Self.maximumDepth) levels")
                    }
                    element.children.append(try parseElement())
                    depth -= 1
                }
            } else if c == UInt8(ascii: "&") {
                let (decoded, at) = try parseReference()
                text.appendReplacement(decoded, sourceOffset: at)
            } else {
                let runStart = i
                while i < bytes.count, bytes[i] != UInt8(ascii: "<"), bytes[i] != UInt8(ascii: "&") { i += 1 }
                text.appendVerbatim(bytes[runStart..<i], sourceOffset: runStart)
            }
        }
    }

    private mutating func parseAttribute(elementName: String) throws(XMLParseError) -> XMLAttribute {
        let start = i
        let name = try parseName(what: "an attribute name")
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
            throw fail(at: i, "expected '=' after attribute \(name) of <\(elementName)>")
        }
        i += 1
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
            throw fail(at: i, "expected '\"' or ''' to start the value of attribute \(name) of <\(elementName)>")
        }
        let quote = bytes[i]
        let quoteOffset = i
        i += 1
        var value = DecodedText(startOffset: i)
        while true {
            guard i < bytes.count else {
                throw fail(
                    at: quoteOffset,
                    "unterminated value of attribute \(name) of <\(elementName)>: expected a closing \(quote == 0x22 ? "'\"'" : "\"'\"")"
                )
            }
            let c = bytes[i]
            if c == quote {
                i += 1
                break
            }
            if c == UInt8(ascii: "<") {
                throw fail(at: i, "'<' is not allowed in the value of attribute \(name): write &lt;")
            }
            if c == UInt8(ascii: "&") {
                let (decoded, at) = try parseReference()
                value.appendReplacement(decoded, sourceOffset: at)
            } else if c == 0x09 || c == 0x0A || c == 0x0D {
                value.appendReplacement(" ", sourceOffset: i)  // attribute value normalization
                i += 1
            } else {
                let runStart = i
                while i < bytes.count, bytes[i] != quote, bytes[i] != UInt8(ascii: "<"), bytes[i] != UInt8(ascii: "&"),
                    bytes[i] != 0x09, bytes[i] != 0x0A, bytes[i] != 0x0D
                {
                    i += 1
                }
                value.appendVerbatim(bytes[runStart..<i], sourceOffset: runStart)
            }
        }
        return XMLAttribute(name: name, offset: start, value: value)
    }

    private mutating func parseName(what: String) throws(XMLParseError) -> String {
        let start = i
        guard i < bytes.count, isNameStart(bytes[i]) else { throw fail(at: i, "expected \(what)") }
        i += 1
        while i < bytes.count, isNameChar(bytes[i]) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    // MARK: - Character data

    /// Parses `&name;`, `&#NN;` or `&#xHH;` at `i`; returns the text and the offset of the `&`.
    private mutating func parseReference() throws(XMLParseError) -> (String, Int) {
        let start = i
        i += 1
        guard let semicolon = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
            throw fail(at: start, "expected an entity reference ending in ';' after '&' (write &amp; for '&')")
        }
        let body = bytes[i..<semicolon]
        i = semicolon + 1
        if body.first == UInt8(ascii: "#") {
            var digits = body.dropFirst()
            var radix: UInt32 = 10
            if digits.first == UInt8(ascii: "x") {
                radix = 16
                digits = digits.dropFirst()
            }
            var scalar: UInt32 = 0
            var valid = !digits.isEmpty
            for d in digits {
                guard let v = hexValue(d), v < radix else {
                    valid = false
                    break
                }
                scalar = scalar &* radix &+ v
                if scalar > 0x10FFFF { valid = false }
            }
            guard valid, scalar != 0, let unicode = Unicode.Scalar(scalar) else {
                throw fail(at: start, "invalid character reference &\(String(decoding: body, as: UTF8.self));")
            }
            return (String(Character(unicode)), start)
        }
        switch String(decoding: body, as: UTF8.self) {
        case "lt": return ("<", start)
        case "gt": return (">", start)
        case "amp": return ("&", start)
        case "quot": return ("\"", start)
        case "apos": return ("'", start)
        case let other:
            throw fail(
                at: start,
                "unknown entity &\(other);: expected &lt; &gt; &amp; &quot; &apos; or a character reference"
            )
        }
    }

    private mutating func parseCDATA(into text: inout DecodedText) throws(XMLParseError) {
        let start = i
        i += 9  // "<![CDATA["
        let contentStart = i
        while i < bytes.count, !looking(at: "]]>") { i += 1 }
        guard i < bytes.count else { throw fail(at: start, "unterminated CDATA section: expected ']]>'") }
        text.appendVerbatim(bytes[contentStart..<i], sourceOffset: contentStart)
        i += 3
    }

    // MARK: - Skipped constructs

    private mutating func skipComment() throws(XMLParseError) {
        let start = i
        i += 4
        while i < bytes.count, !looking(at: "-->") { i += 1 }
        guard i < bytes.count else { throw fail(at: start, "unterminated comment: expected '-->'") }
        i += 3
    }

    private mutating func skipProcessingInstruction() throws(XMLParseError) {
        let start = i
        i += 2
        while i < bytes.count, !looking(at: "?>") { i += 1 }
        guard i < bytes.count else {
            throw fail(at: start, "unterminated processing instruction or XML declaration: expected '?>'")
        }
        i += 2
    }

    private mutating func skipDoctype() throws(XMLParseError) {
        let start = i
        i += 9
        var bracketDepth = 0
        var quote: UInt8?
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if let q = quote {
                if c == q { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: "[") {
                bracketDepth += 1
            } else if c == UInt8(ascii: "]") {
                bracketDepth -= 1
            } else if c == UInt8(ascii: ">"), bracketDepth <= 0 {
                return
            }
        }
        throw fail(at: start, "unterminated DOCTYPE: expected '>'")
    }

    // MARK: - Helpers

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = i
        while i < bytes.count, isXMLSpace(bytes[i]) { i += 1 }
        return i > start
    }

    private func looking(at literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let p = literal.utf8Start
        for k in 0..<count where bytes[i + k] != p[k] { return false }
        return true
    }

    private func fail(at offset: Int, _ message: String) -> XMLParseError {
        XMLParseError(offset: offset, message: message)
    }
}

private func isNameStart(_ c: UInt8) -> Bool {
    (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
        || c >= 0x80
}

private func isNameChar(_ c: UInt8) -> Bool {
    isNameStart(c) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
}

private func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case 0x30...0x39: UInt32(c - 0x30)
    case 0x41...0x46: UInt32(c - 0x41 + 10)
    case 0x61...0x66: UInt32(c - 0x61 + 10)
    default: nil
    }
}
