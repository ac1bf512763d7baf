import CYAML

/// Reads YAML 1.1 text with libyaml: every error names its line and column.
public enum YAMLReader {
    /// Every document of a YAML stream (an empty stream gives []), aliases expanded.
    public static func documents(in bytes: [UInt8]) throws(YAMLError) -> [YAMLNode] {
        guard !bytes.isEmpty else { return [] }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(message: "libyaml could not allocate a parser", mark: YAMLMark(line: 1, column: 1))
        }
        defer { yaml_parser_delete(parser) }
        let result: Result<[YAMLNode], YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            do throws(YAMLError) {
                return .success(try readEvents(parser, bytes: buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func readEvents(
        _ parser: UnsafeMutablePointer<yaml_parser_t>,
        bytes: UnsafeBufferPointer<UInt8>
    ) throws(YAMLError) -> [YAMLNode] {
        var builder = YAMLDocumentBuilder()
        let end = YAMLTextEnd(bytes)
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) == 1 else { throw error(of: parser.pointee, in: bytes) }
            defer { yaml_event_delete(&event) }
            let mark = YAMLMark(event.start_mark, end: end)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return builder.documents
            case YAML_DOCUMENT_START_EVENT:
                builder.startDocument()
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
                let scalar = YAMLScalar(
                    value: value,
                    style: YAMLScalarStyle(data.style),
                    tag: text(data.tag),
                    mark: mark
                )
                try builder.scalar(scalar, anchor: text(data.anchor))
            case YAML_ALIAS_EVENT:
                try builder.alias(text(event.data.alias.anchor) ?? "", at: mark)
            case YAML_SEQUENCE_START_EVENT:
                try builder.startCollection(mapping: false, anchor: text(event.data.sequence_start.anchor), at: mark)
            case YAML_MAPPING_START_EVENT:
                try builder.startCollection(mapping: true, anchor: text(event.data.mapping_start.anchor), at: mark)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                try builder.endCollection()
            default:
                break  // stream start, document end
            }
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml's error: its problem, where it is, and what was being read (and from where).
    private static func error(of parser: yaml_parser_t, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "not valid YAML"
        switch parser.error {
        case YAML_READER_ERROR:
            // Encoding errors: libyaml gives the byte offset only.
            var message = problem
            if parser.problem_value >= 0 {
                message += " (byte 0x" + String(parser.problem_value, radix: 16, uppercase: true) + ")"
            }
            return YAMLError(message: message, mark: YAMLMark(offset: parser.problem_offset, in: bytes))
        case YAML_MEMORY_ERROR:
            return YAMLError(message: "libyaml ran out of memory", mark: YAMLMark(parser.problem_mark))
        default:
            var message = problem
            if let context = parser.context.map({ String(cString: $0) }) {
                message += " (\(context) at \(YAMLMark(parser.context_mark, end: YAMLTextEnd(bytes))))"
            }
            // libyaml's index counts characters: find that character's first byte
            var characters = 0
            let index = bytes.firstIndex { byte in
                guard byte & 0xC0 != 0x80 else { return false }
                defer { characters += 1 }
                return characters == parser.problem_mark.index
            }
            if let index, bytes[index] == 0x09 {
                message += "; it is a tab: YAML indents with spaces only"
            }
            return YAMLError(message: message, mark: YAMLMark(parser.problem_mark, end: YAMLTextEnd(bytes)))
        }
    }
}

/// What `YAMLMark` needs to know of the end of a text: when its last line has no line break, that
/// line's length and the text's, in characters (libyaml's mark index counts characters, not bytes).
/// A text that ends in a line break (most) is not counted at all.
struct YAMLTextEnd {
    /// The text's length in characters; 0 (never read) when `lastLineCharacters` is nil.
    var characters = 0
    var lastLineCharacters: Int?

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let last = bytes.last, last != 0x0A, last != 0x0D else { return }
        characters = bytes.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
        let lastLine = bytes.reversed().prefix { $0 != 0x0A && $0 != 0x0D }
        lastLineCharacters = lastLine.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
    }
}

extension YAMLMark {
    /// libyaml's 0-based mark.
    init(_ mark: yaml_mark_t) {
        self.init(line: mark.line + 1, column: mark.column + 1)
    }

    /// libyaml's mark inside the text that `end` describes. At the end of a text whose last line
    /// has no line break, libyaml counts a line break it adds itself and names column 1 of a line
    /// after the last: the end of the last line is given instead.
    init(_ mark: yaml_mark_t, end: YAMLTextEnd) {
        if let lastLineCharacters = end.lastLineCharacters, mark.column == 0, mark.line > 0,
            mark.index >= end.characters
        {
            self.init(line: mark.line, column: lastLineCharacters + 1)
        } else {
            self.init(mark)
        }
    }

    /// The line and column (in characters) of a byte offset.
    init(offset: Int, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == 0x0a {
                line += 1
                column = 1
            } else if byte & 0xc0 != 0x80 {
                column += 1
            }
        }
        self.init(line: line, column: column)
    }
}

extension YAMLScalarStyle {
    init(_ style: yaml_scalar_style_t) {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: self = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: self = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: self = .literal
        case YAML_FOLDED_SCALAR_STYLE: self = .folded
        default: self = .plain
        }
    }
}
