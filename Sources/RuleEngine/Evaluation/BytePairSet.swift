/// The pairs of adjacent bytes that occur in a text, as a table of 65,536 bytes.
///
/// Built for a long text (an argv of kilobytes) when a `contains` test first reads it, and then
/// read by every other: a needle with a pair the text lacks in every ASCII case cannot occur in
/// it, so most tests answer without scanning. A needle whose pairs are all present still has to
/// be searched for.
struct BytePairSet: Equatable {
    /// Entry `first | second << 8` (the two bytes as one little-endian 16-bit number) is non-zero
    /// when the pair occurs as the bytes stand in the text: the case is looked at when a needle is
    /// checked, not per byte of the text. A byte per pair, not a bit: recording one is then a
    /// single store, with no shift and no read of what an earlier pair left in the same word.
    private var seen = [UInt8](repeating: 0, count: 65_536)

    /// Texts shorter than this are scanned directly: building the set would cost more.
    static let minimumTextLength = 512

    init(_ text: UnsafeBufferPointer<UInt8>) {
        guard text.count >= 2, let start = text.baseAddress else { return }
        let base = UnsafeRawPointer(start)
        seen.withUnsafeMutableBufferPointer { seen in
            for k in 0..<(text.count - 1) {
                seen[Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: k, as: UInt16.self)))] = 1
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
        func has(_ a: UInt8, _ b: UInt8) -> Bool { seen[Int(a) | Int(b) << 8] != 0 }
        let firstUpper = first >= 0x61 && first <= 0x7A ? first - 0x20 : first
        let secondUpper = second >= 0x61 && second <= 0x7A ? second - 0x20 : second
        return has(first, second) || has(firstUpper, second) || has(first, secondUpper)
            || has(firstUpper, secondUpper)
    }
}
