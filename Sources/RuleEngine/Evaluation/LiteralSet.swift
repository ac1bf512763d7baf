/// Literal texts searched for all together in one pass over a text, ignoring ASCII case.
///
/// The rule index gives every rule whose filter requires one of a few texts in the command line
/// (or in `Image`) a guard made of them; one pass over an event's command line then tells which of
/// all the guards' texts it holds, and a rule whose texts are all absent is not evaluated. Each position of the
/// text costs one bit test (is its byte pair the start of a literal?); only where it is are those
/// literals compared.
struct LiteralSet: Sendable {
    /// The literals, folded, each at least two bytes long, in insertion order (their ids).
    private(set) var literals: [[UInt8]] = []
    private var ids: [[UInt8]: Int] = [:]
    /// One bit per byte pair (folded) that starts some literal.
    private var firstPairs = [UInt64](repeating: 0, count: 1024)
    /// The ids of the literals starting with each byte pair, by pair.
    private var byFirstPair: [UInt16: [Int]] = [:]

    var isEmpty: Bool { literals.isEmpty }

    /// Adds a literal (two bytes or more; folded here) and returns its id; the same text gets the same id.
    mutating func insert(_ literal: [UInt8]) -> Int {
        precondition(literal.count >= 2, "a literal of the set has at least two bytes")
        let folded = asciiLowercased(literal)
        if let id = ids[folded] { return id }
        let id = literals.count
        literals.append(folded)
        ids[folded] = id
        let pair = UInt16(folded[0]) << 8 | UInt16(folded[1])
        firstPairs[Int(pair >> 6)] |= 1 << UInt64(pair & 63)
        byFirstPair[pair, default: []].append(id)
        return id
    }

    /// Which literals occur in `text` (ignoring ASCII case).
    func occurrences(in text: UnsafeBufferPointer<UInt8>) -> LiteralOccurrences {
        var found = LiteralOccurrences(count: literals.count)
        guard text.count >= 2, !literals.isEmpty else { return found }
        var remaining = literals.count
        firstPairs.withUnsafeBufferPointer { bits in
            var previous = UInt16(asciiLower(text[0]))
            for k in 1..<text.count {
                let pair = previous << 8 | UInt16(asciiLower(text[k]))
                previous = pair & 0xFF
                guard bits[Int(pair >> 6)] & (1 << UInt64(pair & 63)) != 0 else { continue }
                for id in byFirstPair[pair]! {
                    guard !found.contains(id), Self.occurs(literals[id], in: text, at: k - 1) else { continue }
                    found.insert(id)
                    remaining -= 1
                }
                if remaining == 0 { return }
            }
        }
        return found
    }

    @inline(__always)
    private static func occurs(_ literal: [UInt8], in text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard start + literal.count <= text.count else { return false }
        var k = 2  // the first pair is known to match
        while k < literal.count {
            if asciiLower(text[start + k]) != literal[k] { return false }
            k += 1
        }
        return true
    }
}

/// The literals of a ``LiteralSet`` found in a text, as a set of ids.
struct LiteralOccurrences {
    private var words: [UInt64]

    init(count: Int) {
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    @inline(__always)
    func contains(_ id: Int) -> Bool {
        words[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    mutating func insert(_ id: Int) {
        words[id >> 6] |= 1 << UInt64(id & 63)
    }

    mutating func formUnion(_ other: LiteralOccurrences) {
        for k in words.indices { words[k] |= other.words[k] }
    }
}
