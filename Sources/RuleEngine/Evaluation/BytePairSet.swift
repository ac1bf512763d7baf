/// The pairs of adjacent bytes (ASCII case folded) that occur in a text, as a 65,536-bit set.
///
/// Built once per event for a long text (an argv of kilobytes) that many `contains` tests read: a
/// needle with a pair the text lacks cannot occur in it, so most tests answer without scanning.
/// A needle whose pairs are all present still has to be searched for.
struct BytePairSet: Equatable {
    private var words = [UInt64](repeating: 0, count: 1024)

    /// Texts shorter than this are scanned directly: building the set would cost more.
    static let minimumTextLength = 512

    init(_ text: UnsafeBufferPointer<UInt8>) {
        self.init { bits in
            guard text.count >= 2 else { return }
            var previous = Int(asciiLower(text[0]))
            for k in 1..<text.count {
                let current = Int(asciiLower(text[k]))
                let pair = previous << 8 | current
                let bit: UInt64 = 1 << UInt64(pair & 63)
                if bits[pair >> 6] & bit == 0 { bits[pair >> 6] |= bit }  // (see LiteralSet's scan)
                previous = current
            }
        }
    }

    /// The set `record` fills: it sets bit `pair & 63` of word `pair >> 6` for each adjacent pair
    /// (first byte << 8 | second, both folded) of the text, e.g. while looking for literals in it
    /// (``LiteralSet/occurrences(in:recordingPairs:)``), so the text is read once for both.
    init(recording record: (UnsafeMutablePointer<UInt64>) -> Void) {
        words.withUnsafeMutableBufferPointer { record($0.baseAddress!) }
    }

    /// False when some adjacent pair of `needle` (folded here, so a cased needle works too) is
    /// absent from the text: then the text cannot contain the needle, in any case.
    func mayContain(_ needle: [UInt8]) -> Bool {
        guard needle.count >= 2 else { return true }
        var previous = Int(asciiLower(needle[0]))
        for k in 1..<needle.count {
            let current = Int(asciiLower(needle[k]))
            let pair = previous << 8 | current
            if words[pair >> 6] & (1 << UInt64(pair & 63)) == 0 { return false }
            previous = current
        }
        return true
    }
}
