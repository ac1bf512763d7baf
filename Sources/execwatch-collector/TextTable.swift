#if canImport(Glibc)
import Glibc
#endif

/// A plain text table: columns padded to their widest cell, capped by `maximumWidths`; the
/// flexible column shrinks so that lines fit a terminal's width.
struct TextTable {
    var headers: [String]
    var rows: [[String]]
    var maximumWidths: [Int]
    var flexibleColumn: Int?
    var rightAlignedColumn: Int?
    static let separator = "  "

    init(
        headers: [String],
        rows: [[String]],
        maximumWidths: [Int]? = nil,
        flexibleColumn: Int? = nil,
        rightAlignedColumn: Int? = nil
    ) {
        self.headers = headers
        self.rows = rows
        self.maximumWidths = maximumWidths ?? Array(repeating: Int.max, count: headers.count)
        self.flexibleColumn = flexibleColumn
        self.rightAlignedColumn = rightAlignedColumn
    }

    func lines(width: Int?) -> [String] {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        for column in widths.indices { widths[column] = min(widths[column], maximumWidths[column]) }
        if let width, let flexible = flexibleColumn {
            let others = widths.enumerated().filter { $0.offset != flexible }.map(\.element).reduce(0, +)
            let room = width - others - Self.separator.count * (widths.count - 1)
            widths[flexible] = max(headers[flexible].count, min(widths[flexible], room))
        }
        return ([headers] + rows).map { cells in
            let padded = cells.enumerated().map { column, cell -> String in
                let fitted = cell.count > widths[column] ? String(cell.prefix(max(0, widths[column] - 1))) + "…" : cell
                let padding = String(repeating: " ", count: widths[column] - fitted.count)
                return column == rightAlignedColumn ? padding + fitted : fitted + padding
            }
            var line = padded.joined(separator: Self.separator)
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}

/// Text for a terminal.
enum TerminalText {
    /// Control characters (which could move the cursor or recolour the screen when an attacker
    /// chose the arguments) and bidirectional overrides shown as escapes.
    static func visible(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00..<0x20, 0x7F..<0xA0:
                let hex = String(scalar.value, radix: 16)
                result += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            case 0x202A...0x202E, 0x2066...0x2069:
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// The terminal's width when standard output is one; else `$COLUMNS` when set; else nil.
    static var outputWidth: Int? {
        var size = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        guard let value = getenv("COLUMNS") else { return nil }
        return Int(String(cString: value))
    }
}
