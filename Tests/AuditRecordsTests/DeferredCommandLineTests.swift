import ExecEvents
import Foundation
import HostProcesses
import Testing

@testable import AuditRecords

/// One successful exec by `pid`, child of `ppid`, with `execve` as its EXECVE record bodies.
private func exec(serial: Int, pid: Int64, ppid: Int64, name: String, execve: [String]) -> [String] {
    let stamp = "msg=audit(1700000000.\(100 + serial):\(serial)):"
    var lines = [
        "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 ppid=\(ppid) pid=\(pid) uid=0 comm=\"\(name)\" exe=\"/usr/bin/\(name)\""
    ]
    lines += execve.map { "type=EXECVE \(stamp) \($0)" }
    lines += [
        "type=CWD \(stamp) cwd=\"/\"",
        "type=PATH \(stamp) item=0 name=\"/usr/bin/\(name)\" inode=1 dev=08:01 mode=0100755 nametype=NORMAL",
        "type=EOE \(stamp)",
    ]
    return lines
}

/// A parent whose argv has a long argument split into hex chunks and bytes that are not UTF-8.
private let parentArgument: [UInt8] = Array(repeating: UInt8(ascii: "y"), count: 9_000) + [0xff, 0x41, 0xc3]
private let parentExecve: [String] = {
    let hex = hexString(parentArgument).uppercased()
    return [
        "argc=3 a0=\"python3\" a1=2D63FE a2_len=\(hex.count) a2[0]=\(hex.prefix(7_000))",
        " a2[1]=\(hex.dropFirst(7_000).prefix(7_000))",
        " a2[2]=\(hex.dropFirst(14_000))",
    ]
}()

/// The parent's command line as the eager code made it: its argv decoded and joined.
private let parentCommandLine = KnownProcess.commandLine([bytes("python3"), [0x2d, 0x63, 0xfe], parentArgument])

@Suite("The parent's command line, decoded only when a child's event asks for it")
struct DeferredCommandLineTests {
    private static let lines =
        exec(serial: 1, pid: 200, ppid: 1, name: "python3", execve: parentExecve)
        + exec(serial: 2, pid: 201, ppid: 1, name: "ls", execve: ["argc=1 a0=\"ls\""])
        + exec(serial: 3, pid: 202, ppid: 200, name: "sh", execve: ["argc=2 a0=\"sh\" a1=\"-i\""])
        + exec(serial: 4, pid: 203, ppid: 200, name: "id", execve: ["argc=1 a0=\"id\""])

    @Test func aChildAskingLaterGetsTheParentsCommandLineByteForByte() throws {
        let events = replay(text: Self.lines.joined(separator: "\n")).events
        #expect(events.count == 4)
        #expect(parentCommandLine.contains("\u{FFFD}"))
        #expect(events[0].args?[2] == parentArgument)
        #expect(events.map(\.parentCommandLine) == [nil, nil, parentCommandLine, parentCommandLine])
        #expect(events[2].parentExePath == "/usr/bin/python3")
    }

    @Test func recordsBorrowedFromAMappedFileAreReadWhenTheChildComesAfterMuchElse() throws {
        // Between the parent and its children, enough other execs that the reader has handed the
        // parent's pages back to the kernel: they are read again from the page cache.
        var lines = exec(serial: 1, pid: 200, ppid: 1, name: "python3", execve: parentExecve)
        let filler = "argc=2 a0=\"true\" a1=" + String(repeating: "7A", count: 3_000)
        for k in 0..<2_000 {
            lines += exec(serial: 10 + k, pid: 300 + Int64(k), ppid: 1, name: "true", execve: [filler])
        }
        lines += exec(serial: 5_000, pid: 202, ppid: 200, name: "sh", execve: ["argc=2 a0=\"sh\" a1=\"-i\""])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("deferred-\(UUID()).log")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let reader = try LineReader(path: file.path)
        #expect(reader.linesStayValid)
        var assembler = AuditEventAssembler(borrowsRecordBytes: true)
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        var last: ExecEvent?
        let emit: (AuditEventAssembler.CompletedExec) -> Void = { completed in
            // As replay with rules does: the index probe for every exec, the event for few.
            let probe = normalizer.probe(from: completed)
            if probe.procName == "sh" { last = normalizer.event(from: completed, probe: probe) }
        }
        try reader.forEachLine { line, _ in
            if let line, !line.isEmpty { _ = assembler.ingest(line: line, emit) }
        }
        withExtendedLifetime(reader) { assembler.finish(emit) }
        #expect(last?.parentCommandLine == parentCommandLine)
        #expect(normalizer.malformedArgumentFields == 0)
    }

    @Test func theIndexProbeDecodesNoArgv() throws {
        // A bad hex argument is counted when decoded: nothing is, until the event's args are asked for.
        var assembler = AuditEventAssembler()
        var completed: [AuditEventAssembler.CompletedExec] = []
        for line in exec(serial: 1, pid: 200, ppid: 1, name: "nc", execve: ["argc=2 a0=\"nc\" a1=ZZ"]) {
            _ = Array(line.utf8).withUnsafeBytes { raw in assembler.ingest(line: raw) { completed.append($0) } }
        }
        let nc = try #require(completed.first)
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        #expect(normalizer.probe(from: nc).procName == "nc")
        #expect(normalizer.malformedArgumentFields == 0)
        #expect(normalizer.event(from: nc, includingArguments: false).args == nil)
        #expect(normalizer.malformedArgumentFields == 0)
        #expect(normalizer.event(from: nc).swParam == "ZZ")
        #expect(normalizer.malformedArgumentFields == 1)
    }

    @Test func theProcessTableStillEvictsByBytes() throws {
        // Records copied (as live capture copies them): an entry holds its EXECVE records until a
        // child asks, and the table's byte budget counts them.
        let big = "argc=2 a0=\"x\" a1=" + String(repeating: "41", count: 20_000)
        var lines: [String] = []
        for k in 0..<50 { lines += exec(serial: 1 + k, pid: 1_000 + Int64(k), ppid: 1, name: "x", execve: [big]) }
        lines += exec(serial: 100, pid: 2_000, ppid: 1_000, name: "sh", execve: ["argc=1 a0=\"sh\""])
        lines += exec(serial: 101, pid: 2_001, ppid: 1_049, name: "sh", execve: ["argc=1 a0=\"sh\""])
        var assembler = AuditEventAssembler()
        var normalizer = ExecEventNormalizer(
            hostName: "h",
            users: UserNameCache(names: [:]),
            processes: ProcessTable(maximumBytes: 400_000)
        )
        var events: [ExecEvent] = []
        for line in lines {
            _ = Array(line.utf8).withUnsafeBytes { raw in
                assembler.ingest(line: raw) { events.append(normalizer.event(from: $0, includingArguments: false)) }
            }
        }
        assembler.finish { events.append(normalizer.event(from: $0, includingArguments: false)) }
        #expect(normalizer.processTableEvictions > 0)
        #expect(events[50].parentProcName == nil, "the oldest parent was forgotten")
        #expect(events[51].parentCommandLine == "x " + String(repeating: "A", count: 20_000))
    }
}

@Suite("The SYSCALL record is scanned once for an event derived whole")
struct SyscallScanTests {
    private static let records = [
        "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 auid=1000 uid=1000 euid=0 tty=pts0 comm=\"nc\" exe=\"/usr/bin/nc.openbsd\" key=\"k\u{01}other\"\u{1d}UID=\"alice\" AUID=\"bob\"",
        "type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"nc\" a1=\"-l\"",
        "type=PATH msg=audit(1700000000.100:7): item=0 name=\"/usr/bin/nc\" nametype=NORMAL",
        "type=EOE msg=audit(1700000000.100:7):",
    ]

    private static func completed(_ records: [String] = records) throws -> AuditEventAssembler.CompletedExec {
        var assembler = AuditEventAssembler()
        var completed: [AuditEventAssembler.CompletedExec] = []
        for line in records {
            _ = Array(line.utf8).withUnsafeBytes { raw in assembler.ingest(line: raw) { completed.append($0) } }
        }
        return try #require(completed.first)
    }

    private static let syscallBodyCount = records[0].utf8.count - "type=SYSCALL msg=audit(1700000000.100:7):".utf8.count

    @Test func anEventNotProbedFirstIsReadInOnePass() throws {
        let nc = try Self.completed()
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        let event = normalizer.event(from: nc)
        #expect(nc.exec.syscallBytesScanned == Self.syscallBodyCount)
        #expect(event.procId == 42 && event.parentProcId == 1 && event.uid == 1000 && event.euid == 0)
        #expect(event.user == "alice" && event.auid == 1000 && event.loginUser == "bob")
        #expect(event.tty == "pts0" && event.auditKey == "k")
        #expect(event.procName == "nc" && event.exePath == "/usr/bin/nc.openbsd")
    }

    @Test func aProbedEventHasTheSameAttributes() throws {
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        let probed = try Self.completed()
        let probe = normalizer.probe(from: probed)
        #expect(probe.exePath == "/usr/bin/nc.openbsd")
        #expect(probed.exec.syscallBytesScanned < Self.syscallBodyCount)  // stopped at exe
        var fresh = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        #expect(normalizer.event(from: probed, probe: probe) == fresh.event(from: try Self.completed()))
        // The event goes on where the probe stopped: the record is scanned once in all.
        #expect(probed.exec.syscallBytesScanned == Self.syscallBodyCount)
    }

    /// Without `exe`, the probe's scan stops at the first translated field; the event's scan
    /// starts again there and still reads the translations.
    @Test func aProbeStoppedByTheTranslationsLeavesThemToTheEvent() throws {
        let records = [
            "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes ppid=1 pid=42 auid=1000 uid=1000 tty=pts0 comm=\"nc\" key=(null)\u{1d}UID=\"alice\" AUID=\"bob\"",
            "type=PATH msg=audit(1700000000.100:7): item=0 name=\"/usr/bin/nc\" nametype=NORMAL",
            "type=EOE msg=audit(1700000000.100:7):",
        ]
        let bodyCount = records[0].utf8.count - "type=SYSCALL msg=audit(1700000000.100:7):".utf8.count
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        let probed = try Self.completed(records)
        let probe = normalizer.probe(from: probed)
        #expect(probe.procName == "nc")
        #expect(probed.exec.syscallBytesScanned < bodyCount)
        let event = normalizer.event(from: probed, probe: probe)
        // Once in all, but for the first translated field, which the event's scan reads again.
        #expect(probed.exec.syscallBytesScanned == bodyCount + "\u{1d}UID=\"alice\"".utf8.count)
        #expect(event.user == "alice" && event.loginUser == "bob" && event.tty == "pts0" && event.auditKey == nil)
        #expect(event.procId == 42 && event.parentProcId == 1 && event.exePath == nil)
        var fresh = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        #expect(event == fresh.event(from: try Self.completed(records)))
    }
}
