import ExecEvents
import Testing

@testable import RuleEngine

/// A window's `markCounted` starts after the entries it knows are counted; these tests compare it
/// with a plain walk of the range over many windows (entries out of time order, dropped, compacted).
@Suite struct GroupWindowTests {
    /// A small deterministic generator, so that a failure can be replayed.
    private struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<40)
    func markCountedAgreesWithAPlainWalkOfTheRange(seed: Int) {
        var random = Generator(state: UInt64(seed))
        let id = IncidentID(ruleId: "r", hostName: "h", groupValues: [])
        var window = GroupWindow(incidentId: id, time: EventTime(millisecondsSinceEpoch: 0))
        let windowMilliseconds = Int64.random(in: 5...400, using: &random)
        let maxEntries = Int.random(in: 3...80, using: &random)
        var now: Int64 = 0
        for _ in 0..<600 {
            // Mostly forward in time, sometimes earlier (out of order), now and then far back.
            switch Int.random(in: 0..<20, using: &random) {
            case 0: now -= Int64.random(in: 0...(windowMilliseconds * 3), using: &random)
            case 1...3: now -= Int64.random(in: 0...10, using: &random)
            default: now += Int64.random(in: 0...20, using: &random)
            }
            let time = EventTime(millisecondsSinceEpoch: now)
            _ = window.insert(
                WindowEntry(time: time, counted: false, values: []),
                windowMilliseconds: windowMilliseconds,
                maxEntries: maxEntries
            )
            let live = (window.entries.count - window.liveCount)..<window.entries.count
            let range: Range<Int>
            if Bool.random(using: &random) {
                range = window.range(endingAt: time, windowMilliseconds: windowMilliseconds)
            } else {
                let lower = Int.random(in: live.lowerBound...live.upperBound, using: &random)
                range = lower..<Int.random(in: lower...live.upperBound, using: &random)
            }
            guard !range.isEmpty else { continue }
            let uncounted = range.filter { !window.entries[$0].counted }
            let expected = (Int64(uncounted.count), uncounted.first.map { window.entries[$0].time })
            let marked = window.markCounted(range)
            #expect(marked.count == expected.0)
            #expect(marked.earliest == expected.1)
            #expect(range.allSatisfy { window.entries[$0].counted })
        }
    }
}
