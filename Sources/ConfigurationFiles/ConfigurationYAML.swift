/// The YAML that configuration files (the agent's and the collector's) use, parsed by hand with line and column for every
/// node: block mappings and sequences, flow `[a, b]` and `{k: v}` on one line, plain, single- and
/// double-quoted scalars, comments, a leading `---`. Anchors, aliases, tags and multi-line
/// scalars are refused with a clear error (a configuration needs none of them).
///
/// Written here rather than taken from a YAML library: the one available links Foundation's
/// internationalization (ICU, ~45 MB) into the agent.
public enum ConfigurationYAML {
    public struct Mark: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var description: String { "\(line):\(column)" }
    }

    public indirect enum Node: Equatable, Sendable {
        case scalar(String, Mark)
        case sequence([Node], Mark)
        case mapping([Entry], Mark)

        public var mark: Mark {
            switch self {
            case .scalar(_, let mark), .sequence(_, let mark), .mapping(_, let mark): mark
            }
        }
    }

    public struct Entry: Equatable, Sendable {
        public var key: String
        public var keyMark: Mark
        public var value: Node
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var mark: Mark
        public var message: String
        public var description: String { "\(mark): \(message)" }
    }

    /// Parses a document; nil when it holds nothing but comments and blank lines.
    public static func parse(_ text: String) throws(ParseError) -> Node? {
        var lines: [Line] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = try Line(Array(raw.utf8), number: index + 1)
            if line.content.isEmpty { continue }
            if lines.isEmpty && line.indent == 0 && line.content == Array("---".utf8) { continue }
            lines.append(line)
        }
        guard !lines.isEmpty else { return nil }
        var parser = BlockParser(lines: lines)
        let node = try parser.parseBlock(indent: lines[0].indent)
        if parser.index < lines.count {
            let line = lines[parser.index]
            throw ParseError(mark: Mark(line: line.number, column: line.indent + 1), message: "unexpected indentation")
        }
        return node
    }

    /// One meaningful line: its indentation and its text without the comment.
    struct Line {
        var number: Int
        var indent: Int
        var content: [UInt8]

        init(_ bytes: [UInt8], number: Int) throws(ParseError) {
            self.number = number
            var bytes = bytes
            if bytes.last == 0x0d { bytes.removeLast() }
            var i = 0
            while i < bytes.count, bytes[i] == 0x20 { i += 1 }
            if i < bytes.count, bytes[i] == 0x09 {
                throw ParseError(
                    mark: Mark(line: number, column: i + 1),
                    message: "tabs are not allowed in indentation"
                )
            }
            indent = i
            content = Self.withoutComment(Array(bytes[i...]))
        }

        /// Drops a `#` comment (one at the start or after a space, outside quotes) and trailing spaces.
        static func withoutComment(_ bytes: [UInt8]) -> [UInt8] {
            var quote: UInt8?
            var end = bytes.count
            for (k, c) in bytes.enumerated() {
                if let open = quote {
                    if c == open { quote = nil }
                } else if c == 0x22 || c == 0x27 {
                    quote = c
                } else if c == UInt8(ascii: "#") && (k == 0 || bytes[k - 1] == 0x20 || bytes[k - 1] == 0x09) {
                    end = k
                    break
                }
            }
            var result = Array(bytes[0..<end])
            while let last = result.last, last == 0x20 || last == 0x09 { result.removeLast() }
            return result
        }
    }

    struct BlockParser {
        let lines: [Line]
        var index = 0

        mutating func parseBlock(indent: Int) throws(ParseError) -> Node {
            let first = lines[index]
            if first.content.first == UInt8(ascii: "-") && (first.content.count == 1 || first.content[1] == 0x20) {
                return try parseSequence(indent: indent)
            }
            return try parseMapping(indent: indent)
        }

        mutating func parseSequence(indent: Int) throws(ParseError) -> Node {
            let start = Mark(line: lines[index].number, column: indent + 1)
            var items: [Node] = []
            while index < lines.count, lines[index].indent == indent, lines[index].content.first == UInt8(ascii: "-") {
                let line = lines[index]
                index += 1
                let rest = Array(line.content.dropFirst().drop(while: { $0 == 0x20 }))
                let column = indent + 1 + (line.content.count - rest.count)
                if rest.isEmpty {
                    guard index < lines.count, lines[index].indent > indent else {
                        items.append(.scalar("", Mark(line: line.number, column: column)))
                        continue
                    }
                    items.append(try parseBlock(indent: lines[index].indent))
                } else {
                    items.append(try ValueParser.parse(rest, line: line.number, column: column))
                }
            }
            return .sequence(items, start)
        }

        mutating func parseMapping(indent: Int) throws(ParseError) -> Node {
            let start = Mark(line: lines[index].number, column: indent + 1)
            var entries: [Entry] = []
            while index < lines.count, lines[index].indent == indent {
                let line = lines[index]
                index += 1
                var reader = ValueParser(bytes: line.content, line: line.number, columnOffset: indent)
                let keyMark = reader.mark
                let key = try reader.key()
                if entries.contains(where: { $0.key == key }) {
                    throw ParseError(mark: keyMark, message: "duplicate key \"\(key)\"")
                }
                reader.skipSpaces()
                if reader.atEnd {
                    if index < lines.count, lines[index].indent > indent {
                        entries.append(
                            Entry(key: key, keyMark: keyMark, value: try parseBlock(indent: lines[index].indent))
                        )
                    } else {
                        entries.append(Entry(key: key, keyMark: keyMark, value: .scalar("", reader.mark)))
                    }
                } else {
                    let value = try reader.value()
                    reader.skipSpaces()
                    guard reader.atEnd else {
                        throw ParseError(mark: reader.mark, message: "unexpected text after the value")
                    }
                    entries.append(Entry(key: key, keyMark: keyMark, value: value))
                }
            }
            if index < lines.count, lines[index].indent > indent {
                let line = lines[index]
                throw ParseError(
                    mark: Mark(line: line.number, column: line.indent + 1),
                    message: "unexpected indentation"
                )
            }
            return .mapping(entries, start)
        }
    }

    /// Reads keys and values within one line (including flow collections).
    struct ValueParser {
        let bytes: [UInt8]
        let line: Int
        let columnOffset: Int
        var i = 0
        /// Flow collections open around the current byte.
        var depth = 0
        /// Deepest `[`/`{` nesting accepted: each level recurses, so `[[[[…` would overflow the
        /// stack; configuration values nest one or two levels.
        static let maximumDepth = 64

        var atEnd: Bool { i >= bytes.count }
        var mark: Mark { Mark(line: line, column: columnOffset + i + 1) }

        static func parse(_ bytes: [UInt8], line: Int, column: Int) throws(ParseError) -> Node {
            var parser = ValueParser(bytes: bytes, line: line, columnOffset: column - 1)
            let node = try parser.value()
            parser.skipSpaces()
            guard parser.atEnd else { throw ParseError(mark: parser.mark, message: "unexpected text after the value") }
            return node
        }

        mutating func skipSpaces() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        }

        /// `key:` (plain or quoted), consuming the colon.
        mutating func key() throws(ParseError) -> String {
            let start = mark
            let text: String
            if i < bytes.count, bytes[i] == 0x22 || bytes[i] == 0x27 {
                text = try quoted()
            } else {
                let from = i
                while i < bytes.count,
                    !(bytes[i] == UInt8(ascii: ":") && (i + 1 == bytes.count || bytes[i + 1] == 0x20)),
                    bytes[i] != UInt8(ascii: ",") && bytes[i] != UInt8(ascii: "}")
                {
                    i += 1
                }
                text = String(decoding: bytes[from..<i], as: UTF8.self).trimmingTrailingSpaces
            }
            skipSpaces()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw ParseError(mark: start, message: "expected \"key: value\"")
            }
            guard !text.isEmpty else { throw ParseError(mark: start, message: "empty key") }
            i += 1
            return text
        }

        mutating func value(inFlow: Bool = false) throws(ParseError) -> Node {
            skipSpaces()
            let start = mark
            guard i < bytes.count else { return .scalar("", start) }
            switch bytes[i] {
            case UInt8(ascii: "["): return try flowSequence()
            case UInt8(ascii: "{"): return try flowMapping()
            case 0x22, 0x27: return .scalar(try quoted(), start)
            case UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"):
                throw ParseError(
                    mark: start,
                    message:
                        "anchors, aliases, tags and multi-line scalars are not supported in execwatch configuration"
                )
            default:
                let from = i
                while i < bytes.count {
                    let c = bytes[i]
                    if inFlow && (c == UInt8(ascii: ",") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}")) { break }
                    i += 1
                }
                return .scalar(String(decoding: bytes[from..<i], as: UTF8.self).trimmingTrailingSpaces, start)
            }
        }

        mutating func quoted() throws(ParseError) -> String {
            let start = mark
            let quote = bytes[i]
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                if c == quote {
                    if quote == 0x27, i + 1 < bytes.count, bytes[i + 1] == 0x27 {  // '' inside '…'
                        out.append(0x27)
                        i += 2
                        continue
                    }
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if quote == 0x22 && c == UInt8(ascii: "\\") && i + 1 < bytes.count {
                    let escaped = bytes[i + 1]
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case 0x22, UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                    default:
                        throw ParseError(
                            mark: mark,
                            message: "unsupported escape \\\(Character(Unicode.Scalar(escaped)))"
                        )
                    }
                    i += 2
                    continue
                }
                out.append(c)
                i += 1
            }
            throw ParseError(mark: start, message: "unterminated quoted string")
        }

        /// Enters a `[` or `{` at `start`; an error past ``maximumDepth``.
        mutating func enterFlow(at start: Mark) throws(ParseError) {
            depth += 1
            guard depth <= Self.maximumDepth else {
                throw ParseError(
                    mark: start,
                    message: "[lists] and {mappings} nested deeper than \(Self.maximumDepth) levels"
                )
            }
        }

        mutating func flowSequence() throws(ParseError) -> Node {
            let start = mark
            try enterFlow(at: start)
            defer { depth -= 1 }
            i += 1
            var items: [Node] = []
            skipSpaces()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .sequence(items, start)
            }
            while true {
                items.append(try value(inFlow: true))
                skipSpaces()
                guard i < bytes.count else { throw ParseError(mark: start, message: "unclosed [") }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    return .sequence(items, start)
                }
                throw ParseError(mark: mark, message: "expected , or ] in a [list]")
            }
        }

        mutating func flowMapping() throws(ParseError) -> Node {
            let start = mark
            try enterFlow(at: start)
            defer { depth -= 1 }
            i += 1
            var entries: [Entry] = []
            skipSpaces()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .mapping(entries, start)
            }
            while true {
                skipSpaces()
                let keyMark = mark
                let key = try self.key()
                entries.append(Entry(key: key, keyMark: keyMark, value: try value(inFlow: true)))
                skipSpaces()
                guard i < bytes.count else { throw ParseError(mark: start, message: "unclosed {") }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    return .mapping(entries, start)
                }
                throw ParseError(mark: mark, message: "expected , or } in a {mapping}")
            }
        }
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
