/// The pairs of adjacent bytes that occur in a text, as a 65,536-bit set.
///
/// Built for a long text (an argv of kilobytes) when a `contains` test first reads it, and then
/// read by every other: a needle with a pair the text lacks in every ASCII case cannot occur in
/// it, so most tests answer without scanning. A needle whose pairs are all present still has to
/// be searched for.
struct BytePairSet: Equatable {
    /// Bit `first | second << 8` (the two bytes as one little-endian 16-bit number), as the bytes
    /// stand in the text: the case is looked at when a needle is checked, not per byte of the text.
    private var words = [UInt64](repeating: 0, count: 1024)

    /// Texts shorter than this are scanned directly: building the set would cost more.
    static let minimumTextLength = 512

    init(_ text: UnsafeBufferPointer<UInt8>) {
        guard text.count >= 2, let start = text.baseAddress else { return }
        let base = UnsafeRawPointer(start)
        words.withUnsafeMutableBufferPointer { bits in
            for k in 0..<(text.count - 1) {
                let pair = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: k, as: UInt16.self)))
                let bit: UInt64 = 1 << UInt64(pair & 63)
                // Written only when not yet set: a text repeating one pair would otherwise chain
                // each store to the previous one.
                if bits[pair >> 6] & bit == 0 { bits[pair >> 6] |= bit }
            }
        }
    }

    /// False when some adjacent pair of `needle` is absent from the text in every ASCII case
    /// (the needle's own case does not matter): then the text cannot contain the needle, in any case.
    func mayContain(_ needle: [UInt8]) -> Bool {
        guard needle.count >= 2 else { return true }
        for k in 1..<needle.count where !holds(asciiLower(needle[k - 1]), asciiLower(needle[k])) { return false }
        return true
    }

    /// Whether the text has the pair of folded bytes `first`, `second` in some case.
    private func holds(_ first: UInt8, _ second: UInt8) -> Bool {
        func has(_ a: UInt8, _ b: UInt8) -> Bool {
            let pair = Int(a) | Int(b) << 8
            return words[pair >> 6] & (1 << UInt64(pair & 63)) != 0
        }
        let firstUpper = first >= 0x61 && first <= 0x7A ? first - 0x20 : first
        let secondUpper = second >= 0x61 && second <= 0x7A ? second - 0x20 : second
        return has(first, second) || has(firstUpper, second) || has(first, secondUpper)
            || has(firstUpper, secondUpper)
    }
}
