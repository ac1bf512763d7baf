import ExecEvents
import Testing

@testable import AuditRecords

@Suite("Reassembly memory bounded in bytes")
struct ReassemblyMemoryTests {
    /// The EXECVE records the kernel writes for `argv = ["/bin/true", argument]` when the argument
    /// is long: hex-encoded chunks `a1[k]=…` of at most 7,500 bytes of hex each.
    static func execveRecords(serial: Int, argument: [UInt8], node: String? = nil) -> [String] {
        let prefix = node.map { "node=\($0) " } ?? ""
        let stamp = "msg=audit(1700000000.000:\(serial)):"
        let digits = Array("0123456789ABCDEF".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(argument.count * 2)
        for byte in argument {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        var records = ["\(prefix)type=EXECVE \(stamp) argc=2 a0=\"/bin/true\" a1_len=\(argument.count)"]
        var chunk = 0
        var offset = 0
        while offset < hex.count {
            let end = min(offset + 7500, hex.count)
            records.append(
                "\(prefix)type=EXECVE \(stamp) a1[\(chunk)]=\(String(decoding: hex[offset..<end], as: UTF8.self))"
            )
            chunk += 1
            offset = end
        }
        return records
    }

    static func feed(
        _ assembler: inout AuditEventAssembler,
        _ line: String,
        _ emit: (AuditEventAssembler.CompletedExec) -> Void
    ) {
        var line = line
        line.withUTF8 { bytes in _ = assembler.ingest(line: UnsafeRawBufferPointer(bytes), emit) }
    }

    @Test func aFloodOfIncompleteEventsWithBigExecveRecordsStaysWithinTheBudget() {
        let budget = 1 << 20
        let events = 40
        // Grace time and open-event count far away: only the byte budget can bound this flood.
        var assembler = AuditEventAssembler(graceMilliseconds: 1_000_000, maximumPending: 1 << 20, maximumBytes: budget)
        var emitted = 0
        var largest = 0
        for serial in 1...events {
            let argument = Array(repeating: UInt8(ascii: "A") &+ UInt8(serial % 26), count: 100 << 10)
            for record in Self.execveRecords(serial: serial, argument: argument) {
                Self.feed(&assembler, record) { _ in emitted += 1 }
                largest = max(largest, assembler.heldBytes)
            }
        }
        // Never over the budget after any record, and it was used: each event holds 200 KiB of
        // hex, the accounting sees it, so only about five fit.
        #expect(largest <= budget)
        #expect(largest > budget / 2)
        #expect(assembler.openEvents < 8)
        #expect(assembler.statistics.forcedCompletions > events - 8)
        #expect(emitted == 0)  // none had a SYSCALL record: nothing to emit
        assembler.finish { _ in emitted += 1 }
        #expect(assembler.statistics.incompleteEvents == events)
        #expect(assembler.heldBytes == 0)
    }

    @Test func anEventCompletedEarlyStillCarriesWhatItHad() throws {
        var assembler = AuditEventAssembler(graceMilliseconds: 1_000_000, maximumBytes: 1 << 20)
        var completed: [AuditEventAssembler.CompletedExec] = []
        Self.feed(
            &assembler,
            "type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=7 uid=0 comm=\"true\" exe=\"/usr/bin/true\""
        ) { completed.append($0) }
        for record in Self.execveRecords(serial: 1, argument: Array(repeating: 0x42, count: 8000)) {
            Self.feed(&assembler, record) { completed.append($0) }
        }
        // A second event bigger than the whole budget pushes the first out.
        for record in Self.execveRecords(serial: 2, argument: Array(repeating: 0x43, count: 600 << 10)) {
            Self.feed(&assembler, record) { completed.append($0) }
            #expect(assembler.heldBytes <= 1 << 20)
        }
        #expect(completed.count == 1)
        let first = try #require(completed.first)
        #expect(first.serial == 1)
        #expect(first.decodeArguments()?.arguments.last?.count == 8000)
        #expect(assembler.statistics.forcedCompletions >= 2)  // the first, then the oversized one itself
    }

    @Test func nodeNamesAreHeldOnlyWhileTheirEventsAreOpen() {
        var assembler = AuditEventAssembler(graceMilliseconds: 1_000_000)
        var nodes: Set<String> = []
        for serial in 1...5000 {
            let node = "host-\(serial)-with-a-long-name-from-hostile-input"
            let stamp = "msg=audit(1700000000.000:\(serial)):"
            Self.feed(
                &assembler,
                "node=\(node) type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 pid=7 uid=0 comm=\"true\" exe=\"/usr/bin/true\""
            ) { nodes.insert($0.node ?? "") }
            #expect(assembler.nodeNamesHeld == 1)
            Self.feed(&assembler, "node=\(node) type=EOE \(stamp)") { nodes.insert($0.node ?? "") }
            #expect(assembler.nodeNamesHeld == 0)
            #expect(assembler.heldBytes == 0)
        }
        #expect(nodes.count == 5000)  // every event still names its node
    }

    @Test func eventsOfSeveralNodesWithTheSameSerialStayApart() {
        var assembler = AuditEventAssembler(graceMilliseconds: 1_000_000)
        var completed: [(String?, UInt64)] = []
        let emit: (AuditEventAssembler.CompletedExec) -> Void = { completed.append(($0.node, $0.serial)) }
        let stamp = "msg=audit(1700000000.000:9):"
        let syscall =
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 pid=7 uid=0 comm=\"a\" exe=\"/a\""
        Self.feed(&assembler, "node=a " + syscall, emit)
        Self.feed(&assembler, "node=b " + syscall, emit)
        Self.feed(&assembler, syscall, emit)
        #expect(assembler.openEvents == 3)
        #expect(assembler.nodeNamesHeld == 2)
        Self.feed(&assembler, "node=b type=EOE \(stamp)", emit)
        Self.feed(&assembler, "node=a type=EOE \(stamp)", emit)
        Self.feed(&assembler, "type=EOE \(stamp)", emit)
        #expect(completed.map(\.0) == ["b", "a", nil])
        #expect(assembler.nodeNamesHeld == 0)
    }
}
