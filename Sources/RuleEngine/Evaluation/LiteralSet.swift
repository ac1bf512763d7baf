/// Literal texts searched for all together in one pass over a text, ignoring ASCII case.
///
/// The rule index gives every rule whose filter requires one of a few texts in the command line
/// (or in `Image`) a guard made of them; one pass over an event's command line then tells which of
/// all the guards' texts it holds, and a rule whose texts are all absent is not evaluated. Each
/// position of the text costs one table lookup (are the two bytes there, as they stand, the start
/// of a literal in some case?), four positions a step; only where they are are literals compared:
/// the two-byte ones equal to the pair, the three-byte ones whose first three bytes fall in the
/// same slot as the text's, and the longer ones whose first four do, found through flat tables
/// (no reference counting per position). Four bytes tell apart most of what two start in a
/// command line (`/usr`, `/tmp`, `exec`): the pair alone let through half of its positions.
struct LiteralSet: Sendable {
    /// The literals, folded, each at least two bytes long, in insertion order (their ids).
    private(set) var literals: [[UInt8]] = []
    private var ids: [[UInt8]: Int] = [:]
    /// One byte per two bytes, as they stand in a text: non-zero when they start some literal in
    /// some case. Entry `first | second << 8` (the two bytes read as one little-endian 16-bit
    /// number), set for every case of the literal's first two letters, so that the scan neither
    /// folds nor shifts: a byte, not a bit, because a variable shift costs more than the 64 KiB.
    /// Bit ``startsShort`` is set for a literal of two or three bytes, ``startsLong`` for a longer
    /// one. Empty until the first literal.
    private var firstPairs: [UInt8] = []
    /// The last literal inserted (id + 1; 0: none) of two bytes by its pair, of three bytes by the
    /// slot of its first three (``tripleSlot(_:_:)``), of four bytes or more by the slot of its
    /// first four (``quadSlot(_:)``); each literal links to the previous one of the same pair or
    /// slot (`previousInChain`, id + 1).
    private var lastWithPair: [UInt16] = []
    private var lastWithTriple: [UInt16] = []
    private var lastWithQuad: [UInt16] = []
    /// One bit per slot of ``lastWithQuad``, set when the slot has a literal: 8 KiB, which stay
    /// in the cache, where the 128 KiB of the slots, read at random slots, did not.
    private var quadSlotsUsed: [UInt64] = []
    private var previousInChain: [UInt16] = []
    private static let startsShort: UInt8 = 1
    private static let startsLong: UInt8 = 2
    /// The bytes of all literals one after the other; literal `id` is
    /// `bytes[starts[id]..<starts[id + 1]]`.
    private var bytes: [UInt8] = []
    private var starts: [Int] = [0]
    /// Two words per literal: its first eight bytes (fewer when it is shorter; little-endian,
    /// zero beyond its end), then the mask of those bytes. A literal whose first pair occurs at
    /// some position is compared with the text there eight bytes at once (see
    /// ``foldedWord(_:at:)``): many literals share their first three bytes (`/bin/sh`, `/bin/bash`).
    private var heads: [UInt64] = []

    /// At most this many literals (ids fit the 16-bit links).
    static let capacity = Int(UInt16.max) - 1

    var isEmpty: Bool { literals.isEmpty }

    /// Adds a literal (two bytes or more; folded here) and returns its id; the same text gets the
    /// same id. Nil when the set is full (``capacity``).
    mutating func insert(_ literal: [UInt8]) -> Int? {
        precondition(literal.count >= 2, "a literal of the set has at least two bytes")
        let folded = asciiLowercased(literal)
        if let id = ids[folded] { return id }
        guard literals.count < Self.capacity else { return nil }
        if lastWithPair.isEmpty {
            firstPairs = [UInt8](repeating: 0, count: 65_536)
            lastWithPair = [UInt16](repeating: 0, count: 65_536)
            lastWithTriple = [UInt16](repeating: 0, count: Self.tripleSlotCount)
            lastWithQuad = [UInt16](repeating: 0, count: 65_536)
            quadSlotsUsed = [UInt64](repeating: 0, count: 65_536 / 64)
        }
        let id = literals.count
        literals.append(folded)
        ids[folded] = id
        bytes += folded
        starts.append(bytes.count)
        var head: UInt64 = 0
        for (k, c) in folded.prefix(8).enumerated() { head |= UInt64(c) << (8 * k) }
        heads.append(head)
        heads.append(folded.count >= 8 ? ~0 : (1 << (8 * UInt64(folded.count))) - 1)
        for first in asciiCases(folded[0]) {
            for second in asciiCases(folded[1]) {
                firstPairs[Int(first) | Int(second) << 8] |= folded.count <= 3 ? Self.startsShort : Self.startsLong
            }
        }
        let pair = Int(folded[0]) << 8 | Int(folded[1])
        if folded.count == 2 {
            previousInChain.append(lastWithPair[pair])
            lastWithPair[pair] = UInt16(id + 1)
        } else if folded.count == 3 {
            let slot = Self.tripleSlot(pair, folded[2])
            previousInChain.append(lastWithTriple[slot])
            lastWithTriple[slot] = UInt16(id + 1)
        } else {
            let slot = Self.quadSlot(UInt32(truncatingIfNeeded: head))
            previousInChain.append(lastWithQuad[slot])
            lastWithQuad[slot] = UInt16(id + 1)
            quadSlotsUsed[slot >> 6] |= 1 << UInt64(slot & 63)
        }
        return id
    }

    /// Which literals occur in `text` (ignoring ASCII case).
    func occurrences(in text: UnsafeBufferPointer<UInt8>) -> LiteralOccurrences {
        var found = LiteralOccurrences(count: literals.count)
        addOccurrences(in: text, to: &found)
        return found
    }

    /// Adds the literals that occur in `text` to `found` (a set of this set's literals): two texts
    /// searched into one set, not two sets made and joined.
    func addOccurrences(in text: UnsafeBufferPointer<UInt8>, to found: inout LiteralOccurrences) {
        guard text.count >= 2, !literals.isEmpty else { return }
        firstPairs.withUnsafeBufferPointer { firstPairs in
            lastWithPair.withUnsafeBufferPointer { lastWithPair in
                lastWithTriple.withUnsafeBufferPointer { lastWithTriple in
                    lastWithQuad.withUnsafeBufferPointer { lastWithQuad in
                        quadSlotsUsed.withUnsafeBufferPointer { quadSlotsUsed in
                            previousInChain.withUnsafeBufferPointer { previousInChain in
                                bytes.withUnsafeBufferPointer { bytes in
                                    starts.withUnsafeBufferPointer { starts in
                                        heads.withUnsafeBufferPointer { heads in
                                            let tables = ChainTables(
                                                lastWithPair: lastWithPair,
                                                lastWithTriple: lastWithTriple,
                                                lastWithQuad: lastWithQuad,
                                                previousInChain: previousInChain,
                                                bytes: bytes,
                                                starts: starts,
                                                heads: heads
                                            )
                                            var k = 1
                                            while true {
                                                k = Self.nextPairStartingALiteral(
                                                    in: text,
                                                    from: k,
                                                    firstPairs.baseAddress!
                                                )
                                                guard k < text.count else { break }
                                                let starting = firstPairs[
                                                    Int(
                                                        UInt16(
                                                            littleEndian: UnsafeRawPointer(text.baseAddress! + k - 1)
                                                                .loadUnaligned(as: UInt16.self)
                                                        )
                                                    )
                                                ]
                                                if starting & Self.startsShort != 0 {
                                                    Self.addShortOccurrences(in: text, at: k - 1, tables, to: &found)
                                                }
                                                if starting & Self.startsLong != 0, k + 3 <= text.count {
                                                    let four = UInt32(
                                                        littleEndian: UnsafeRawPointer(text.baseAddress! + k - 1)
                                                            .loadUnaligned(as: UInt32.self)
                                                    )
                                                    let slot = Self.quadSlot(four)
                                                    if quadSlotsUsed[slot >> 6] & (1 << UInt64(slot & 63)) != 0 {
                                                        let link = Int(lastWithQuad[slot])
                                                        Self.addChain(
                                                            from: link,
                                                            in: text,
                                                            at: k - 1,
                                                            tables,
                                                            to: &found
                                                        )
                                                    }
                                                }
                                                k += 1
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The tables of a scan, read through pointers.
    private struct ChainTables {
        let lastWithPair: UnsafeBufferPointer<UInt16>
        let lastWithTriple: UnsafeBufferPointer<UInt16>
        let lastWithQuad: UnsafeBufferPointer<UInt16>
        let previousInChain: UnsafeBufferPointer<UInt16>
        let bytes: UnsafeBufferPointer<UInt8>
        let starts: UnsafeBufferPointer<Int>
        let heads: UnsafeBufferPointer<UInt64>
    }

    /// Adds the literals of two and three bytes at `start` of `text`.
    @inline(__always)
    private static func addShortOccurrences(
        in text: UnsafeBufferPointer<UInt8>,
        at start: Int,
        _ tables: ChainTables,
        to found: inout LiteralOccurrences
    ) {
        let pair = Int(asciiLower(text[start])) << 8 | Int(asciiLower(text[start + 1]))
        var link = Int(tables.lastWithPair[pair])
        while link != 0 {  // two-byte literals: the pair itself
            found.insert(link - 1)
            link = Int(tables.previousInChain[link - 1])
        }
        guard start + 2 < text.count else { return }
        link = Int(tables.lastWithTriple[tripleSlot(pair, asciiLower(text[start + 2]))])
        if link != 0 { addChain(from: link, in: text, at: start, tables, to: &found) }
    }

    /// Adds the literals of the chain from `link` that occur at `start` of `text`.
    @inline(__always)
    private static func addChain(
        from link: Int,
        in text: UnsafeBufferPointer<UInt8>,
        at start: Int,
        _ tables: ChainTables,
        to found: inout LiteralOccurrences
    ) {
        // The text's eight bytes from `start` on, folded (when there are eight).
        let word = start + 8 <= text.count ? foldedWord(text, at: start) : nil
        var link = link
        while link != 0 {
            let id = link - 1
            link = Int(tables.previousInChain[id])
            guard !found.contains(id) else { continue }
            let literal = UnsafeBufferPointer(rebasing: tables.bytes[tables.starts[id]..<tables.starts[id + 1]])
            if let word {
                guard (word ^ tables.heads[2 * id]) & tables.heads[2 * id + 1] == 0 else { continue }
                if literal.count <= 8 || occurs(literal, in: text, at: start, from: 8) { found.insert(id) }
            } else if occurs(literal, in: text, at: start, from: 0) {
                found.insert(id)
            }
        }
    }

    /// The chain slot of literals of four bytes or more starting with `four` (their first four
    /// bytes, little-endian, in any case). The key is the bytes with bit 0x20 set in each, the
    /// same for every case of a letter (and shared by a few other bytes: slots may be shared,
    /// a literal found through one is compared whole).
    @inline(__always)
    private static func quadSlot(_ four: UInt32) -> Int {
        Int(((four | 0x2020_2020) &* 0x9E37_79B1) >> 16)
    }

    /// The chain slot of literals starting with `pair` then `third` (folded). Slots may be shared:
    /// a literal found through one is compared whole.
    @inline(__always)
    private static func tripleSlot(_ pair: Int, _ third: UInt8) -> Int {
        (pair &* 31 &+ Int(third)) & (tripleSlotCount - 1)
    }

    /// Slots of three-byte literals: few (`-c `, `nc `, `zsh`), in a table small enough to stay
    /// in the cache.
    private static let tripleSlotCount = 4096

    /// The first `k >= from` (from >= 1) where the two bytes `text[k - 1]`, `text[k]` start some
    /// literal (in some case), `text.count` when there is none. Each position is a 16-bit load and
    /// a byte load from ``firstPairs``; four positions are tested before each branch.
    @inline(never)
    private static func nextPairStartingALiteral(
        in text: UnsafeBufferPointer<UInt8>,
        from start: Int,
        _ firstPairs: UnsafePointer<UInt8>
    ) -> Int {
        let base = UnsafeRawPointer(text.baseAddress!)
        let count = text.count
        @inline(__always)
        func startsALiteral(_ k: Int) -> UInt8 {
            firstPairs[Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: k - 1, as: UInt16.self)))]
        }
        var k = start
        while k + 4 <= count {
            if startsALiteral(k) | startsALiteral(k + 1) | startsALiteral(k + 2) | startsALiteral(k + 3) != 0 { break }
            k += 4
        }
        while k < count {
            if startsALiteral(k) != 0 { return k }
            k += 1
        }
        return count
    }

    /// The eight bytes of `text` from `start` on (there must be eight), little-endian, with the
    /// ASCII upper-case letters folded to lower case: all eight at once, the others unchanged.
    @inline(__always)
    static func foldedWord(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> UInt64 {
        let word = UInt64(littleEndian: UnsafeRawPointer(text.baseAddress! + start).loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low = word & (0x7F &* ones)  // each byte below 0x80, so that adding never carries out of it
        let fromA = low &+ (0x80 - 0x41) &* ones  // the top bit set where the byte is at least `A`
        let pastZ = low &+ (0x80 - 0x5B) &* ones  // … where it is past `Z`
        let upper = fromA & ~pastZ & ~word & (0x80 &* ones)  // `A`…`Z` (and not 0x80 or above)
        return word | (upper >> 2)  // 0x20 into each upper-case letter
    }

    /// Whether `literal` occurs in `text` at `start`, comparing from its byte `skip` on (the
    /// bytes before it known to match).
    @inline(__always)
    private static func occurs(
        _ literal: UnsafeBufferPointer<UInt8>,
        in text: UnsafeBufferPointer<UInt8>,
        at start: Int,
        from skip: Int
    ) -> Bool {
        guard start + literal.count <= text.count else { return false }
        var k = skip  // (the first pair matches, the third byte only shares its slot)
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

    /// The empty set of no literals (no storage).
    init() {
        words = []
    }

    /// Every literal of a set of `count`.
    static func all(count: Int) -> LiteralOccurrences {
        var found = LiteralOccurrences(count: count)
        found.fill(count: count, with: ~0)
        return found
    }

    /// Makes this the empty set of a set of `count` literals, in the storage it has when that is
    /// the right size (one set serves event after event without being allocated for each).
    mutating func removeAll(count: Int) {
        fill(count: count, with: 0)
    }

    /// Makes this the set of every literal of a set of `count`, in the storage it has (as
    /// ``removeAll(count:)``).
    mutating func insertAll(count: Int) {
        fill(count: count, with: ~0)
    }

    private mutating func fill(count: Int, with word: UInt64) {
        let wordCount = (count + 63) / 64
        guard words.count == wordCount else {
            words = [UInt64](repeating: word, count: wordCount)
            return
        }
        words.withUnsafeMutableBufferPointer { words in
            for k in words.indices { words[k] = word }
        }
    }

    @inline(__always)
    func contains(_ id: Int) -> Bool {
        words[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    mutating func insert(_ id: Int) {
        words[id >> 6] |= 1 << UInt64(id & 63)
    }

    /// Whether no literal is in.
    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Whether a literal is in both (sets of the same literals).
    func intersects(_ other: LiteralOccurrences) -> Bool {
        for k in 0..<min(words.count, other.words.count) where words[k] & other.words[k] != 0 { return true }
        return false
    }

    /// Calls `body` with each id in the set, in ascending order.
    func forEachMember(_ body: (Int) -> Void) {
        for k in words.indices {
            var word = words[k]
            while word != 0 {
                body(k << 6 | word.trailingZeroBitCount)
                word &= word &- 1
            }
        }
    }
}

/// A folded byte in each ASCII case it stands for: a lower-case letter and its upper case, any
/// other byte alone.
func asciiCases(_ folded: UInt8) -> [UInt8] {
    folded >= 0x61 && folded <= 0x7A ? [folded, folded - 0x20] : [folded]
}
