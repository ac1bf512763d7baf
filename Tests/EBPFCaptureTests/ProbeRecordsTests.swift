import Capture
import ExecEvents
import HostProcesses
import Synchronization
import Testing

@testable import EBPFCapture

/// The probe's ring records as bytes, and how they become events (no kernel needed).
@Suite struct ProbeRecordsTests {
    /// An `exec_record` as the probe lays it out (see ProbeRecords).
    private func execRecord(
        cookie: UInt64,
        pid: UInt32 = 4242,
        parentPID: UInt32 = 1,
        startTime: UInt64 = 77_000_000_000,
        parentStartTime: UInt64 = 0,
        argumentBytes: UInt32,
        argumentBytesSent: UInt32,
        flags: UInt32 = 0,
        filename: String,
        exe: [String],
        cwd: [String],
        tty: String = ""
    ) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: 104)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { record.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        func leafFirst(_ components: [String]) -> [UInt8] {
            components.reversed().flatMap { Array($0.utf8) + [0] }
        }
        let exeBytes = leafFirst(exe)
        let cwdBytes = leafFirst(cwd)
        put(UInt32(1), at: 0)
        put(flags, at: 4)
        put(cookie, at: 8)
        put(pid, at: 16)
        put(parentPID, at: 20)
        put(UInt32(1000), at: 24)
        put(UInt32(0), at: 28)
        put(UInt32(0xffff_ffff), at: 32)
        put(startTime, at: 40)
        put(parentStartTime, at: 48)
        put(argumentBytes, at: 56)
        put(argumentBytesSent, at: 60)
        put(UInt16(filename.utf8.count), at: 64)
        put(UInt16(exeBytes.count), at: 66)
        put(UInt16(cwdBytes.count), at: 68)
        put(UInt16(tty.utf8.count), at: 70)
        record.replaceSubrange(72..<76, with: Array("comm".utf8))
        record.replaceSubrange(88..<92, with: Array("bash".utf8))
        return record + Array(filename.utf8) + exeBytes + cwdBytes + Array(tty.utf8)
    }

    private func argumentsRecord(cookie: UInt64, offset: UInt32, _ bytes: [UInt8]) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: 24)
        withUnsafeBytes(of: UInt32(2)) { record.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt32(bytes.count)) { record.replaceSubrange(4..<8, with: $0) }
        withUnsafeBytes(of: cookie) { record.replaceSubrange(8..<16, with: $0) }
        withUnsafeBytes(of: offset) { record.replaceSubrange(16..<20, with: $0) }
        return record + bytes
    }

    @Test func chunksAndTheExecRecordMakeOneEventWithArgumentsByteForByte() {
        let counters = CaptureCounters()
        var assembler = ExecRecordAssembler(hostName: "h", userName: { $0 == 1000 ? "alice" : nil }, counters: counters)
        let area: [UInt8] = Array("/usr/bin/nc\0".utf8) + [0] + [0xff, 0xfe, 0] + Array("-l\0".utf8)
        let first = argumentsRecord(cookie: 9, offset: 0, Array(area[0..<7]))
        let second = argumentsRecord(cookie: 9, offset: 7, Array(area[7...]))
        let exec = execRecord(
            cookie: 9,
            argumentBytes: UInt32(area.count),
            argumentBytesSent: UInt32(area.count),
            filename: "./nc",
            exe: ["usr", "bin", "nc.openbsd"],
            cwd: ["home", "alice"],
            tty: "pts3"
        )
        #expect(first.withUnsafeBytes { assembler.take($0) } == nil)
        #expect(second.withUnsafeBytes { assembler.take($0) } == nil)
        let event = exec.withUnsafeBytes { assembler.take($0) }
        #expect(event?.args == [Array("/usr/bin/nc".utf8), [], [0xff, 0xfe], Array("-l".utf8)])
        #expect(event?.swParam == " \u{FFFD}\u{FFFD} -l")
        #expect(event?.procName == "nc")
        #expect(event?.exePath == "/usr/bin/nc.openbsd")
        #expect(event?.cwd == "/home/alice")
        #expect(event?.user == "alice" && event?.uid == 1000 && event?.euid == 0)
        #expect(event?.auid == nil && event?.loginUser == nil)
        #expect(event?.tty == "pts3")
        #expect(event?.procId == 4242 && event?.parentProcId == 1 && event?.parentProcName == "bash")
        #expect(event?.extra["argsTruncated"] == nil)
        #expect(counters.malformed.current == 0)
    }

    @Test func aCutArgumentAreaIsMarkedAndCounted() {
        let counters = CaptureCounters()
        var assembler = ExecRecordAssembler(hostName: "h", userName: { _ in nil }, counters: counters)
        let chunk = argumentsRecord(cookie: 5, offset: 0, Array("x\0yy".utf8))
        let exec = execRecord(
            cookie: 5,
            argumentBytes: 300_000,
            argumentBytesSent: 4,
            flags: 1,
            filename: "/bin/x",
            exe: ["bin", "x"],
            cwd: []
        )
        _ = chunk.withUnsafeBytes { assembler.take($0) }
        let event = exec.withUnsafeBytes { assembler.take($0) }
        #expect(event?.args == [Array("x".utf8), Array("yy".utf8)])
        #expect(event?.extra["argsTruncated"] == .integer(300_000))
        #expect(event?.cwd == "/")
        #expect(event?.user == "1000")
        #expect(counters.argumentsTruncated.current == 1)
    }

    @Test func aChildOfAnExecSeenIsNamedByItsFullName() {
        var assembler = ExecRecordAssembler(hostName: "h", userName: { _ in nil }, counters: CaptureCounters())
        var parent = execRecord(
            cookie: 1,
            pid: 1,
            argumentBytes: 0,
            argumentBytesSent: 0,
            filename: "/opt/a-very-long-program-name",
            exe: [],
            cwd: []
        )
        // The parent record's start time (77 s) is what the child's parent_start_boottime says.
        _ = parent.withUnsafeMutableBytes { assembler.take(UnsafeRawBufferPointer($0)) }
        var child = execRecord(
            cookie: 2,
            pid: 2,
            argumentBytes: 0,
            argumentBytesSent: 0,
            filename: "/bin/c",
            exe: [],
            cwd: []
        )
        withUnsafeBytes(of: UInt64(77_000_000_000)) { child.replaceSubrange(48..<56, with: $0) }
        #expect(child.withUnsafeBytes { assembler.take($0) }?.parentProcName == "a-very-long-program-name")
        withUnsafeBytes(of: UInt64(78_000_000_000)) { child.replaceSubrange(48..<56, with: $0) }  // pid 1 reused
        #expect(child.withUnsafeBytes { assembler.take($0) }?.parentProcName == "bash")
    }

    @Test func processesTheTableForgetsAreCounted() {
        let counters = CaptureCounters()
        var assembler = ExecRecordAssembler(
            hostName: "h",
            userName: { _ in nil },
            counters: counters,
            processes: ProcessTable(capacity: 8)
        )
        // Generations of 4 entries: the 9th exec retires the first generation's 4.
        for pid in UInt32(1)...9 {
            let record = execRecord(
                cookie: UInt64(pid),
                pid: pid,
                argumentBytes: 0,
                argumentBytesSent: 0,
                filename: "/bin/p\(pid)",
                exe: [],
                cwd: []
            )
            _ = record.withUnsafeBytes { assembler.take($0) }
            #expect(counters.processesEvicted.current == (pid < 9 ? 0 : 4))
        }
    }

    @Test func anExecOfADescriptorIsNamedByArgvZeroAsAuditNamesIt() {
        var assembler = ExecRecordAssembler(hostName: "h", userName: { _ in nil }, counters: CaptureCounters())
        let area = Array("fexecve\0x\0".utf8)
        let chunk = argumentsRecord(cookie: 3, offset: 0, area)
        for (flags, filename, expected) in [
            (UInt32(16), "/dev/fd/3", "fexecve"), (16, "/dev/fd/3/tool", "tool"), (0, "/dev/fd/3", "3"),
        ] {
            let exec = execRecord(
                cookie: 3,
                argumentBytes: UInt32(area.count),
                argumentBytesSent: UInt32(area.count),
                flags: flags,
                filename: filename,
                exe: ["usr", "bin", "true"],
                cwd: []
            )
            _ = chunk.withUnsafeBytes { assembler.take($0) }
            #expect(exec.withUnsafeBytes { assembler.take($0) }?.procName == expected, "\(filename), flags \(flags)")
        }
    }

    @Test func aRecordCutShortIsMalformed() {
        let counters = CaptureCounters()
        var assembler = ExecRecordAssembler(hostName: "h", userName: { _ in nil }, counters: counters)
        let exec = execRecord(cookie: 1, argumentBytes: 0, argumentBytesSent: 0, filename: "/bin/x", exe: [], cwd: [])
        #expect(exec.dropLast(3).withUnsafeBytes { assembler.take($0) } == nil)
        #expect(counters.malformed.current == 1)
    }

    @Test func aChildOfAShellSeenGetsTheShellsExecutableAndCommandLine() {
        var assembler = ExecRecordAssembler(hostName: "h", userName: { _ in nil }, counters: CaptureCounters())
        let shellArea = Array("bash\0-i\0".utf8)
        _ = argumentsRecord(cookie: 1, offset: 0, shellArea).withUnsafeBytes { assembler.take($0) }
        let shell = execRecord(
            cookie: 1,
            pid: 100,
            startTime: 50_000_000_000,
            argumentBytes: UInt32(shellArea.count),
            argumentBytesSent: UInt32(shellArea.count),
            filename: "/bin/bash",
            exe: ["usr", "bin", "bash"],
            cwd: []
        )
        _ = shell.withUnsafeBytes { assembler.take($0) }
        let child = execRecord(
            cookie: 2,
            pid: 101,
            parentPID: 100,
            parentStartTime: 50_000_000_000,
            argumentBytes: 0,
            argumentBytesSent: 0,
            filename: "./nc",
            exe: ["usr", "bin", "nc.openbsd"],
            cwd: ["home", "alice"]
        )
        let event = child.withUnsafeBytes { assembler.take($0) }
        #expect(event?.parentProcName == "bash")
        #expect(event?.parentExePath == "/usr/bin/bash")
        #expect(event?.parentCommandLine == "bash -i")
        #expect(event?.invokedPath == "/home/alice/nc")
        #expect(event?.exePath == "/usr/bin/nc.openbsd")
    }

    @Test func anExecLeftAsItsProbeCostsNoLookupAndStillNamesItsChildrensParent() {
        let live = FakeProcesses()
        let userLookups = Atomic<Int>(0)
        let counters = CaptureCounters()
        var assembler = ExecRecordAssembler(
            hostName: "h",
            userName: { _ in
                userLookups.count()
                return nil
            },
            counters: counters,
            live: live
        )
        let shellArea = Array("bash\0-i\0".utf8)
        _ = argumentsRecord(cookie: 1, offset: 0, shellArea).withUnsafeBytes { assembler.take($0) }
        let shell = execRecord(
            cookie: 1,
            pid: 100,
            parentPID: 99,
            startTime: 50_000_000_000,
            argumentBytes: 300_000,
            argumentBytesSent: UInt32(shellArea.count),
            flags: 1,
            filename: "bin/bash",
            exe: ["usr", "bin", "bash"],
            cwd: ["usr"],
            tty: "pts1"
        )
        var probes: [ExecEvent] = []
        var areas: [[UInt8]?] = []
        shell.withUnsafeBytes {
            assembler.take($0) { probe, _ in
                probes.append(probe.event)
                areas.append(probe.argumentArea)
            }
        }
        let expected = ExecEvent(
            eventTime: probes.first?.eventTime ?? EventTime(seconds: 0),
            hostName: "h",
            procName: "bash",
            invokedPath: "/usr/bin/bash",
            exePath: "/usr/bin/bash",
            cwd: "/usr"  // a relative path is made absolute against it
        )
        #expect(probes == [expected])
        #expect(areas == [shellArea], "the argument area as received, for the rules' guards")
        #expect(userLookups.current == 0 && live.processReads == 0, "no user name, no parent read")
        #expect(counters.argumentsTruncated.current == 1, "counted whether or not the event is completed")
        let child = execRecord(
            cookie: 2,
            pid: 101,
            parentPID: 100,
            parentStartTime: 50_000_000_000,
            argumentBytes: 0,
            argumentBytesSent: 0,
            filename: "/bin/true",
            exe: ["usr", "bin", "true"],
            cwd: []
        )
        let event = child.withUnsafeBytes { assembler.take($0) }
        #expect(event?.parentProcName == "bash")
        #expect(event?.parentExePath == "/usr/bin/bash")
        #expect(event?.parentCommandLine == "bash -i")
        #expect(event?.user == "1000" && userLookups.current == 1)
    }

    @Test func anExecCompletedFromItsProbeIsTheWholeEvent() {
        var assembler = ExecRecordAssembler(hostName: "h", userName: { _ in "alice" }, counters: CaptureCounters())
        let area = Array("nc\0-l\0".utf8)
        _ = argumentsRecord(cookie: 4, offset: 0, area).withUnsafeBytes { assembler.take($0) }
        let exec = execRecord(
            cookie: 4,
            argumentBytes: UInt32(area.count),
            argumentBytesSent: UInt32(area.count),
            filename: "/usr/bin/nc",
            exe: ["usr", "bin", "nc.openbsd"],
            cwd: ["tmp"],
            tty: "pts0"
        )
        var event: ExecEvent?
        exec.withUnsafeBytes { assembler.take($0) { probe, complete in event = complete(probe) } }
        let expected = ExecEvent(
            eventTime: event?.eventTime ?? EventTime(seconds: 0),
            hostName: "h",
            user: "alice",
            procName: "nc",
            swParam: "-l",
            procId: 4242,
            parentProcId: 1,
            parentProcName: "bash",
            invokedPath: "/usr/bin/nc",
            exePath: "/usr/bin/nc.openbsd",
            cwd: "/tmp",
            uid: 1000,
            euid: 0,
            tty: "pts0",
            args: [Array("nc".utf8), Array("-l".utf8)]
        )
        #expect(event == expected)
    }

    @Test func aParentThatPredatesTheAgentIsReadFromProcWhenItsStartTimeMatches() {
        let live = FakeProcesses()
        live.processes[300] = (
            KnownProcess(programName: "sshd", exePath: "/usr/sbin/sshd", commandLine: "sshd: a"), 500
        )
        var assembler = ExecRecordAssembler(
            hostName: "h",
            userName: { _ in nil },
            counters: CaptureCounters(),
            live: live
        )
        for (parentStart, expected) in [(UInt64(5_000_000_000), "/usr/sbin/sshd"), (6_000_000_000, nil)] {
            let child = execRecord(
                cookie: 2,
                pid: 301,
                parentPID: 300,
                parentStartTime: parentStart,  // 5 s after boot = 500 ticks: /proc's process; 6 s: not it
                argumentBytes: 0,
                argumentBytesSent: 0,
                filename: "/bin/true",
                exe: [],
                cwd: []
            )
            let event = child.withUnsafeBytes { assembler.take($0) }
            #expect(event?.parentExePath == expected)
            #expect(event?.parentCommandLine == expected.map { _ in "sshd: a" })
        }
        let again = execRecord(
            cookie: 3,
            pid: 302,
            parentPID: 300,
            parentStartTime: 5_000_000_000,
            argumentBytes: 0,
            argumentBytesSent: 0,
            filename: "/bin/true",
            exe: [],
            cwd: []
        )
        #expect(again.withUnsafeBytes { assembler.take($0) }?.parentProcName == "sshd")
        #expect(live.processReads == 2, "the parent read once is kept in the table")
    }
}

/// The host's processes as a test sets them: pid → (process, start time in clock ticks).
private final class FakeProcesses: RunningProcesses {
    var processes: [Int64: (process: KnownProcess, startTime: UInt64)] = [:]
    private(set) var processReads = 0

    func startTime(ofPID pid: Int64) -> UInt64? { processes[pid]?.startTime }

    func process(ofPID pid: Int64) -> (process: KnownProcess, startTime: UInt64)? {
        processReads += 1
        return processes[pid]
    }
}

/// Paths the probe writes leaf first become the path a reader expects, byte for byte, whatever
/// the bytes (the function builds the string in place; this compares it with the plain way).
@Suite struct LeafFirstPathTests {
    static func plainPath(_ components: [UInt8]) -> String {
        var names = components.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        if components.last == 0 { names.removeLast() }
        if names.isEmpty { return "/" }
        return String(decoding: names.reversed().flatMap { [UInt8(ascii: "/")] + $0 }, as: UTF8.self)
    }

    static func path(_ components: [UInt8]) -> String {
        components.withUnsafeBytes { ProbeRecords.path(fromLeafFirst: $0) }
    }

    @Test func knownPaths() {
        #expect(Self.path(Array("nc\0bin\0usr\0".utf8)) == "/usr/bin/nc")
        #expect(Self.path([]) == "/")
        #expect(Self.path([0]) == "/")
        #expect(Self.path(Array("tmp\0".utf8)) == "/tmp")
        #expect(Self.path(Array("cut".utf8)) == "/cut")
        #expect(Self.path([0x66, 0xff, 0, 0x62, 0]) == "/b/f\u{FFFD}")
    }

    @Test func anyBytesGiveWhatThePlainWayGives() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0, 0, 0x61, 0x62, 0x2f, 0xc3, 0xa9, 0xff, 0x80, 0x20]
        for _ in 0..<2000 {
            let count = Int.random(in: 0...24, using: &generator)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            #expect(Self.path(bytes) == Self.plainPath(bytes), "\(bytes)")
        }
    }
}

/// A parent's command line kept as the probe's argument area and joined when a child asks is the
/// one joining its arguments at once gives, for any bytes.
@Suite struct ArgumentAreaCommandLineTests {
    @Test func anyAreaJoinsAsTheArgumentsWould() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0, 0, 0x61, 0x20, 0xc3, 0xa9, 0xff, 0x80]
        for _ in 0..<2000 {
            let count = Int.random(in: 0...20, using: &generator)
            let area = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            let joined = KnownProcess.commandLine(area.withUnsafeBytes { ArgumentVector(nulTerminated: $0) })
            #expect(ArgumentAreaCommandLine(area: area).decode() == joined, "\(area)")
        }
        #expect(ArgumentAreaCommandLine(area: Array("nc\0-l\0\0".utf8)).decode() == "nc -l ")
    }

    @Test func aLongAreaIsCutAsACommandLineIs() {
        let area = [UInt8](repeating: 0x61, count: KnownProcess.commandLineLimit + 10) + [0]
        #expect(ArgumentAreaCommandLine(area: area).decode()?.utf8.count == KnownProcess.commandLineLimit)
    }
}
