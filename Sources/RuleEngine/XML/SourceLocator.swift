/// A line and column in a text file, both 1-based. Columns count Unicode scalars, so a tab or a
/// multi-byte character is one column.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// Turns byte offsets of a source text into lines and columns.
public struct SourceLocator: Sendable {
    private let bytes: [UInt8]
    /// Byte offset where each line starts.
    private let lineStarts: [Int]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
        self.lineStarts = starts
    }

    public init(_ text: String) {
        self.init(Array(text.utf8))
    }

    /// The position of a byte offset (offsets past the end map to the end).
    public func position(ofOffset offset: Int) -> SourcePosition {
        let offset = max(0, min(offset, bytes.count))
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        var column = 1
        for i in lineStarts[low]..<offset where bytes[i] & 0xC0 != 0x80 {  // first byte of a scalar
            column += 1
        }
        return SourcePosition(line: low + 1, column: column)
    }
}
