import Testing

@testable import AuditCapture

@Suite("audit serial gaps")
struct AuditSerialTrackerTests {
    static func gaps(_ serials: [UInt64]) -> Int {
        var tracker = AuditSerialTracker()
        return serials.reduce(0) { $0 + tracker.observe($1) }
    }

    @Test("consecutive serials, and several records of one event, are no gap")
    func noGap() {
        #expect(Self.gaps([5, 5, 5, 6, 7, 7, 8]) == 0)
    }

    @Test("a jump counts the serials skipped")
    func jump() {
        #expect(Self.gaps([5, 6, 10, 11]) == 3)
        #expect(Self.gaps([1, 1000]) == 998)
    }

    @Test("a serial that arrives late takes its gap back; duplicates and old serials change nothing")
    func lateArrival() {
        #expect(Self.gaps([5, 7, 6]) == 0)
        #expect(Self.gaps([5, 9, 7, 6, 8]) == 0)
        #expect(Self.gaps([5, 9, 7, 7, 3]) == 2)
    }

    @Test("a serial far below the highest (the kernel's counter wrapped) starts afresh")
    func wrap() {
        #expect(Self.gaps([4_294_967_294, 4_294_967_295, 1, 2, 4]) == 1)
    }

    @Test("serials near UInt64.max, which a payload can carry, count without overflowing")
    func hugeSerials() {
        #expect(Self.gaps([0, UInt64.max]) == Int.max)
        // Over 512 remembered gaps just below UInt64.max: pruning them used to overflow.
        let serials = Array(stride(from: UInt64.max - 2000, to: UInt64.max, by: 2))
        #expect(Self.gaps(serials) == serials.count - 1)
    }

    @Test("the serial is read from a record payload")
    func serialOfPayload() {
        func serial(_ text: String) -> UInt64? {
            Array(text.utf8).withUnsafeBytes { AuditSerialTracker.serial(ofPayload: $0) }
        }
        #expect(serial("audit(1795931722.174:2): arch=c000003e") == 2)
        #expect(serial("audit(1795931722.174:18446744073709): x") == 18_446_744_073_709)
        #expect(serial("audit(1795931722.174:): x") == nil)
        #expect(serial("garbage") == nil)
    }
}
