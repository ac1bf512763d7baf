import Testing

@testable import ProcCapture

/// The hand-written byte offsets of nlmsghdr, cn_msg and proc_event, checked against a datagram
/// the kernel sent (captured on this VM, Linux 6.18, for `/bin/true`, pid 30662) and against the
/// request the kernel accepted.
@Suite struct ProcConnectorWireTests {
    /// nlmsghdr (len 76, NLMSG_DONE, seq 2, from port 0) + cn_msg (CN_IDX_PROC, CN_VAL_PROC, seq 2,
    /// len 40) + proc_event (PROC_EVENT_EXEC, cpu 1, timestamp, pid 30662, tgid 30662).
    static let capturedExec = hexBytes(
        "4c000000030000000200000000000000"
            + "0100000001000000020000000000000028000000"
            + "02000000010000000f05d4c6d5010000c6770000c6770000"
            + "00000000000000000000000000000000"
    )

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
        }
    }

    private func events(in datagram: [UInt8]) -> (events: [ProcConnectorWire.Event], malformed: Int) {
        var events: [ProcConnectorWire.Event] = []
        let malformed = datagram.withUnsafeBytes { ProcConnectorWire.forEachEvent(in: $0) { events.append($0) } }
        return (events, malformed)
    }

    @Test func decodesAnExecTheKernelSent() {
        #expect(Self.capturedExec.count == 76)
        let (decoded, malformed) = events(in: Self.capturedExec)
        #expect(malformed == 0)
        #expect(
            decoded == [
                ProcConnectorWire.Event(
                    what: ProcConnectorWire.EventKind.exec,
                    sequence: 2,
                    timestampNanoseconds: 0x01d5_c6d4_050f,
                    first: 30662,
                    second: 30662
                )
            ]
        )
    }

    @Test func decodesEveryMessageOfADatagramAndSkipsBrokenOnes() {
        var two = Self.capturedExec + Self.capturedExec
        two[76 + 20] = 9  // second message: cn_msg.val is not CN_VAL_PROC
        let (decoded, malformed) = events(in: two)
        #expect(decoded.count == 1)
        #expect(malformed == 1)

        let cut = Array(Self.capturedExec.prefix(50))
        #expect(events(in: cut).events.isEmpty)
        #expect(events(in: cut).malformed == 1)
    }

    @Test func listenRequestLayout() {
        let classic = ProcConnectorWire.control(.listen, sequence: 7, port: 0x1234)
        #expect(
            classic
                == Self.hexBytes(
                    "28000000030000000700000034120000"  // nlmsghdr: len 40, NLMSG_DONE, seq 7, port
                        + "0100000001000000070000000000000004000000"  // cn_msg: idx 1, val 1, seq 7, len 4
                        + "01000000"  // PROC_CN_MCAST_LISTEN
                )
        )
        let filtered = ProcConnectorWire.control(
            .listen,
            eventFilter: ProcConnectorWire.EventKind.exec,
            sequence: 8,
            port: 0
        )
        #expect(filtered.count == 44)
        #expect(Array(filtered[32..<34]) == [8, 0])  // cn_msg.len: struct proc_input
        #expect(Array(filtered[36...]) == [1, 0, 0, 0, 2, 0, 0, 0])  // LISTEN, PROC_EVENT_EXEC
        let ignore = ProcConnectorWire.control(.ignore, sequence: 9, port: 0)
        #expect(Array(ignore[36...]) == [2, 0, 0, 0])
    }
}
