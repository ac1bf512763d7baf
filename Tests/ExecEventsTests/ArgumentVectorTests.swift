import Testing

@testable import ExecEvents

@Suite("An argv held flat")
struct ArgumentVectorTests {
    /// Any list of arguments (empty ones, empty list) reads back as it was given, each argument
    /// a copy, and two vectors are equal exactly when their lists are.
    @Test func argumentsReadBackAsGivenAndCompareAsTheirLists() {
        let pieces: [[UInt8]] = [[], Array("nc".utf8), [0xff, 0x00, 0x41], Array(repeating: 0x61, count: 300)]
        var generator = SystemRandomNumberGenerator()
        var lists: [[[UInt8]]] = [[], [[]], [[], []]]
        for _ in 0..<300 {
            lists.append(
                (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
            )
        }
        for list in lists {
            let vector = ArgumentVector(list)
            #expect(vector.count == list.count)
            #expect(Array(vector) == list)
            for k in list.indices {
                #expect(vector[k] == list[k])
                #expect(Array(vector.bytes[vector.range(of: k)]) == list[k])
            }
            for other in lists.prefix(20) {
                #expect((ArgumentVector(other) == vector) == (other == list), "\(other) vs \(list)")
            }
        }
        // [a, ""] and [a] have the same bytes; ["ab"] and ["a", "b"] too.
        #expect(ArgumentVector([[0x61], []]) != [[0x61]])
        #expect(ArgumentVector([[0x61, 0x62]]) != [[0x61], [0x62]])
    }

    /// A buffer taken over with its ends: bytes past the last end are dropped, so the vector is
    /// the one built argument by argument.
    @Test func aBufferTakenOverDropsWhatLiesPastTheLastEnd() {
        let taken = ArgumentVector(bytes: Array("lsxl-lzz".utf8), ends: [2, 2, 4])
        #expect(taken == [Array("ls".utf8), [], Array("xl".utf8)])
        #expect(taken.bytes == Array("lsxl".utf8))
        #expect(ArgumentVector(bytes: Array("abc".utf8), ends: []) == [])
        #expect(ArgumentVector(bytes: [], ends: [0, 0]) == [[], []])
    }
}
