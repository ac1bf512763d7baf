/// Character data after entity decoding, with a way back to where each byte came from in the file.
///
/// Expression parsers work on `utf8` offsets of ``value``; ``sourceOffset(ofDecodedOffset:)`` turns such
/// an offset into a byte offset of the XML source, so an error inside a filter can name the file's line
/// and column even when entities (`&lt;`, `&quot;`) or CDATA sections changed the lengths.
public struct DecodedText: Sendable, Equatable {
    /// The decoded text.
    public internal(set) var value: String

    /// Runs of decoded bytes in order. In a verbatim run decoded byte `k` came from source byte
    /// `source + k`; in a replaced run (an entity) every decoded byte maps to the entity's `&`.
    struct Run: Sendable, Equatable {
        var decoded: Int
        var source: Int
        var verbatim: Bool
    }

    var runs: [Run]
    /// Where the text starts in the source (also the answer for an empty text).
    public let startOffset: Int

    init(startOffset: Int) {
        self.value = ""
        self.runs = []
        self.startOffset = startOffset
    }

    /// A text whose bytes all came verbatim from `startOffset` on (for tests and synthetic rules).
    public init(verbatim value: String, startOffset: Int = 0) {
        self.value = value
        self.startOffset = startOffset
        self.runs = value.isEmpty ? [] : [Run(decoded: 0, source: startOffset, verbatim: true)]
    }

    /// The byte offset in the source that produced decoded byte `offset` (the end of the text maps just
    /// past its last source byte when that is known).
    public func sourceOffset(ofDecodedOffset offset: Int) -> Int {
        guard !runs.isEmpty else { return startOffset }
        var low = 0
        var high = runs.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if runs[mid].decoded <= offset { low = mid } else { high = mid - 1 }
        }
        let run = runs[low]
        if offset < run.decoded { return run.source }
        return run.verbatim ? run.source + (offset - run.decoded) : run.source
    }

    mutating func appendVerbatim(_ bytes: ArraySlice<UInt8>, sourceOffset: Int) {
        guard !bytes.isEmpty else { return }
        let decoded = value.utf8.count
        if let last = runs.last, last.verbatim, last.source + (decoded - last.decoded) == sourceOffset {
            // Contiguous with the previous verbatim run: extend it.
        } else {
            runs.append(Run(decoded: decoded, source: sourceOffset, verbatim: true))
        }
        value += String(decoding: bytes, as: UTF8.self)
    }

    mutating func appendReplacement(_ text: String, sourceOffset: Int) {
        runs.append(Run(decoded: value.utf8.count, source: sourceOffset, verbatim: false))
        value += text
    }

    /// The text without leading and trailing XML white space.
    public var trimmed: String {
        let utf8 = value.utf8
        guard let first = utf8.firstIndex(where: { !isXMLSpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isXMLSpace($0) })!
        return String(value[first...last])
    }

    /// The source offset of the first non-space character (or of the text's start).
    public var firstNonSpaceSourceOffset: Int {
        let utf8 = Array(value.utf8)
        guard let first = utf8.firstIndex(where: { !isXMLSpace($0) }) else { return startOffset }
        return sourceOffset(ofDecodedOffset: first)
    }
}

@inline(__always)
func isXMLSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}
