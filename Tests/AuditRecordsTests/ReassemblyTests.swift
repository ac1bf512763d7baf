import ExecEvents
import Testing

@testable import AuditRecords

@Suite("Reassembly by audit serial")
struct ReassemblyTests {
    @Test func interleavedRecordsOfSeveralEventsAreKeptApart() {
        let text = """
            type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=11 uid=0 comm="a" exe="/bin/a"
            type=SYSCALL msg=audit(1700000000.000:2): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=22 uid=0 comm="b" exe="/bin/b"
            type=EXECVE msg=audit(1700000000.000:2): argc=2 a0="b" a1="two"
            type=PATH msg=audit(1700000000.000:1): item=0 name="/bin/a" inode=1
            type=EXECVE msg=audit(1700000000.000:1): argc=2 a0="a" a1="one"
            type=PATH msg=audit(1700000000.000:2): item=0 name="/bin/b" inode=1
            """
        let result = replay(text: text)
        let bySerial = Dictionary(uniqueKeysWithValues: zip(result.serials, result.events))
        #expect(bySerial[1]?.swParam == "one")
        #expect(bySerial[1]?.procId == 11)
        #expect(bySerial[2]?.swParam == "two")
        #expect(bySerial[2]?.procId == 22)
    }

    @Test func eventWithoutEOEIsCompletedOnceGraceTimeHasPassed() {
        let first = """
            type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=1 uid=0 comm="a" exe="/bin/a"
            type=EXECVE msg=audit(1700000000.000:1): argc=1 a0="a"
            """
        var assembler = AuditEventAssembler(graceMilliseconds: 1000)
        var completed: [UInt64] = []
        func feed(_ line: String) {
            _ = Array(line.utf8).withUnsafeBytes { raw in assembler.ingest(line: raw) { completed.append($0.serial) } }
        }
        for line in first.split(separator: "\n") { feed(String(line)) }
        feed(
            "type=SYSCALL msg=audit(1700000000.999:2): arch=c000003e syscall=59 success=yes exit=0 pid=2 uid=0 comm=\"b\" exe=\"/bin/b\""
        )
        #expect(completed.isEmpty)  // 999 ms later: still within the grace time
        feed(
            "type=SYSCALL msg=audit(1700000001.000:3): arch=c000003e syscall=59 success=yes exit=0 pid=3 uid=0 comm=\"c\" exe=\"/bin/c\""
        )
        #expect(completed == [1])  // 1000 ms later: complete
        assembler.finish { completed.append($0.serial) }
        #expect(completed == [1, 2, 3])
    }

    @Test func failedExecsAreCountedNotEmitted() {
        let text = """
            type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=no exit=-2 pid=1 uid=0 comm="sh" exe="/bin/sh"
            type=PATH msg=audit(1700000000.000:1): item=0 name="/usr/local/bin/nc" nametype=UNKNOWN
            type=SYSCALL msg=audit(1700000000.000:2): arch=c000003e syscall=59 success=yes exit=0 pid=1 uid=0 comm="sh" exe="/bin/sh"
            type=EXECVE msg=audit(1700000000.000:2): argc=1 a0="nc"
            type=PATH msg=audit(1700000000.000:2): item=0 name="/usr/bin/nc" nametype=NORMAL
            """
        let result = replay(text: text)
        #expect(result.statistics.failedExecs == 1)
        #expect(result.statistics.execs == 1)
        #expect(result.events.map(\.procName) == ["nc"])
        #expect(result.serials == [2])
    }

    @Test func otherSyscallsAreDroppedWithTheirRecords() {
        let text = """
            type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=257 success=yes exit=3 pid=1 uid=0 comm="cat" exe="/bin/cat"
            type=CWD msg=audit(1700000000.000:1): cwd="/"
            type=PATH msg=audit(1700000000.000:1): item=0 name="/etc/passwd" nametype=NORMAL
            type=SYSCALL msg=audit(1700000000.000:2): arch=40000003 syscall=11 success=yes exit=0 pid=1 uid=0 comm="x32" exe="/bin/x32"
            type=EXECVE msg=audit(1700000000.000:2): argc=1 a0="x32"
            type=SYSCALL msg=audit(1700000000.000:3): arch=c00000b7 syscall=281 success=yes exit=0 pid=1 uid=0 comm="arm" exe="/bin/arm"
            """
        let result = replay(text: text)
        // openat is not an exec; i386 execve (11) and aarch64 execveat (281) are.
        #expect(result.events.map(\.procName) == ["x32", "arm"])
        #expect(result.statistics.incompleteEvents == 0)
    }

    @Test func tooManyOpenEventsAreCompletedEarlyAndCounted() {
        var assembler = AuditEventAssembler(graceMilliseconds: 1_000_000, maximumPending: 10)
        var completed = 0
        for serial in 1...50 {
            let line =
                "type=SYSCALL msg=audit(1700000000.000:\(serial)): arch=c000003e syscall=59 success=yes exit=0 pid=1 uid=0 comm=\"a\" exe=\"/a\""
            _ = Array(line.utf8).withUnsafeBytes { raw in assembler.ingest(line: raw) { _ in completed += 1 } }
            #expect(assembler.openEvents <= 11)
        }
        #expect(assembler.statistics.forcedCompletions == 40)
        assembler.finish { _ in completed += 1 }
        #expect(completed == 50)
    }

    @Test func reorderedTraceGivesTheSameEventsAsTheOrderedOne() throws {
        guard TestPaths.corporaPresent else { return }
        let ordered = try replay(file: TestPaths.corpora.appendingPathComponent("laurel/shell-proc-trace.txt"))
        let reordered = try replay(
            file: TestPaths.corpora.appendingPathComponent("laurel/shell-proc-trace-reordered.txt")
        )
        #expect(ordered.events.count == 4)
        // The parent's facts come from the execs completed before: the reordered file ends its
        // events (EOE) in reverse order, so a child can complete before its parent. All else must match.
        func withoutParentName(_ event: ExecEvent) -> String {
            var event = event
            event.parentProcName = nil
            event.parentExePath = nil
            event.parentCommandLine = nil
            return event.jsonLine
        }
        let a = zip(ordered.serials, ordered.events.map(withoutParentName)).sorted { $0.0 < $1.0 }
        let b = zip(reordered.serials, reordered.events.map(withoutParentName)).sorted { $0.0 < $1.0 }
        #expect(a.map(\.0) == b.map(\.0))
        for (x, y) in zip(a, b) {
            #expect(x.1 == y.1, "serial \(x.0)")
        }
    }

    @Test func goLibauditOutOfOrderLogReassemblesBothExecs() throws {
        guard TestPaths.corporaPresent else { return }
        let result = try replay(file: TestPaths.corpora.appendingPathComponent("go-libaudit/out_of_order.log"))
        let bySerial = Dictionary(uniqueKeysWithValues: zip(result.serials, result.events))
        #expect(bySerial[59]?.args?.map(\.text) == ["grep", "--color=auto", "mapping"])
        #expect(bySerial[59]?.procName == "grep")
        #expect(bySerial[59]?.cwd == "/home/andrew_kroh")
        #expect(bySerial[60]?.args?.map(\.text) == ["cat", "securitybeat"])
        #expect(bySerial[60]?.procName == "cat")
        #expect(result.statistics.malformedRecords == 0)
    }
}
