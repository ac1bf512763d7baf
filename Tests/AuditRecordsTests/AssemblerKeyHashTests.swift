import Testing

@testable import AuditRecords

@Suite("The open-event key's own hash")
struct AssemblerKeyHashTests {
    typealias Key = AuditEventAssembler.Key

    @Test func equalKeysHashEquallyUnderEverySeed() {
        for seed in [0, 1, -1, 0x5eed, Int.max, Int.min] {
            for serial: UInt64 in [0, 1, 2, 296, 1 << 32, .max] {
                for node in [-2, -1, 0, 1, 7] {
                    #expect(
                        Key(node: node, serial: serial)._rawHashValue(seed: seed)
                            == Key(node: node, serial: serial)._rawHashValue(seed: seed)
                    )
                }
            }
        }
        #expect(Key(node: 1, serial: 2).hashValue == Key(node: 1, serial: 2).hashValue)
    }

    /// Serials come in runs (one per event, a few apart): they spread over a table's buckets as
    /// random keys would, whatever the node and the seed.
    @Test func consecutiveSerialsSpreadOverTheBuckets() {
        for seed in [0, 12345, -987_654_321] {
            for node in [-1, 0, 3] {
                var buckets = [Int](repeating: 0, count: 4096)
                for serial in UInt64(1_000_000)..<1_004_096 {
                    buckets[Key(node: node, serial: serial)._rawHashValue(seed: seed) & 4095] += 1
                }
                // 4096 keys in 4096 buckets: a random hash fills about 63% of them, at most ~8 deep.
                #expect(buckets.filter { $0 > 0 }.count > 2400)
                #expect(buckets.max()! <= 10)
            }
        }
    }

    /// A dictionary keyed by it agrees with a plain list through opening and completing events
    /// in the assembler's pattern (mostly in order, some out of order, serials reused by nodes).
    @Test func aTableKeyedByItAgreesWithAList() {
        var table: [Key: Int] = [:]
        var list: [(Key, Int)] = []
        var generator = SystemRandomNumberGenerator()
        var serial: UInt64 = 500
        for step in 0..<20_000 {
            if list.count < 64 || Int.random(in: 0..<2, using: &generator) == 0 {
                serial += UInt64.random(in: 1...3, using: &generator)
                let key = Key(node: Int.random(in: -1...2, using: &generator), serial: serial)
                if table[key] == nil {
                    table[key] = step
                    list.append((key, step))
                }
            } else {
                let position = Int.random(in: 0..<8, using: &generator) == 0 ? Int.random(in: 0..<list.count) : 0
                let (key, value) = list.remove(at: position)
                #expect(table.removeValue(forKey: key) == value)
            }
            if step % 97 == 0 {
                #expect(table.count == list.count)
                for (key, value) in list { #expect(table[key] == value) }
                #expect(table[Key(node: 9, serial: serial)] == nil)
            }
        }
    }
}
