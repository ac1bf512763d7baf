import ExecEvents
import HostProcesses
import Testing

/// The host's processes as a test sets them: pid → (process, start time); counts reads.
private final class FakeProcesses: RunningProcesses {
    var processes: [Int64: (process: KnownProcess, startTime: UInt64)] = [:]
    private(set) var startTimeReads = 0
    private(set) var processReads = 0

    func startTime(ofPID pid: Int64) -> UInt64? {
        startTimeReads += 1
        return processes[pid]?.startTime
    }

    func process(ofPID pid: Int64) -> (process: KnownProcess, startTime: UInt64)? {
        processReads += 1
        return processes[pid]
    }
}

private let bash = KnownProcess(programName: "bash", exePath: "/usr/bin/bash", commandLine: "bash -i")
private let sshd = KnownProcess(programName: "sshd", exePath: "/usr/sbin/sshd", commandLine: "sshd: alice")

@Suite("One process table for every source: pid and start time")
struct ProcessTableTests {
    @Test func aParentIsKnownFromItsOwnExecSeenEarlier() {
        var table = ProcessTable()
        table.record(pid: 200, startTime: 1000, bash)
        #expect(table.process(ofPID: 200, startTime: 1000) == bash)
        let live = FakeProcesses()
        #expect(table.parent(ofPID: 200, startTime: 1000, live: live) == bash)
        #expect(live.processReads == 0 && live.startTimeReads == 0, "a parent in the table costs no /proc read")
    }

    @Test func aReusedPidWithAnotherStartTimeDoesNotLendTheOldEntry() {
        var table = ProcessTable()
        table.record(pid: 200, startTime: 1000, bash)
        #expect(table.process(ofPID: 200, startTime: 2000) == nil)
        let live = FakeProcesses()
        live.processes[200] = (sshd, 2000)
        #expect(table.parent(ofPID: 200, startTime: 2000, live: live) == sshd)
        // Audit sources know no start time: the live one is read, and the stale entry is not used.
        var audit = ProcessTable()
        audit.record(pid: 200, startTime: 1000, bash)
        #expect(audit.parent(ofPID: 200, live: live) == sshd)
        #expect(audit.parent(ofPID: 200, live: live) == sshd, "kept once read")
    }

    @Test func procIsTrustedOnlyForTheProcessAskedFor() {
        var table = ProcessTable()
        let live = FakeProcesses()
        live.processes[300] = (sshd, 5)  // pid 300 now belongs to another process than the one asked for
        #expect(table.parent(ofPID: 300, startTime: 4, live: live) == nil)
        #expect(table.parent(ofPID: 300, startTime: 5, live: live) == sshd)
        #expect(live.processReads == 2)
        #expect(table.parent(ofPID: 300, startTime: 5, live: live) == sshd)
        #expect(live.processReads == 2, "the second child finds its parent in the table")
    }

    @Test func replayKeysByPidAloneAndNeverReadsProc() {
        var table = ProcessTable()
        table.record(pid: 200, startTime: nil, bash)
        #expect(table.parent(ofPID: 200, live: nil) == bash)
        #expect(table.parent(ofPID: 201, live: nil) == nil)
    }

    @Test func aParentGoneFromProcIsAnsweredFromTheTable() {
        var table = ProcessTable()
        table.record(pid: 200, startTime: 1000, bash)
        #expect(table.parent(ofPID: 200, live: FakeProcesses()) == bash)
    }

    @Test func entriesAreBoundedAndEvictionsCounted() {
        var table = ProcessTable(capacity: 4)
        for pid in Int64(1)...10 { table.record(pid: pid, startTime: 1, bash) }
        #expect(table.count <= 4)
        #expect(table.evictions == 10 - table.count)
        #expect(table.process(ofPID: 10, startTime: 1) == bash, "the newest entries stay")
        #expect(table.process(ofPID: 1, startTime: 1) == nil, "the oldest went")
    }

    @Test func anEntryLookedUpSurvivesTheNextGeneration() {
        var table = ProcessTable(capacity: 4)  // two generations of two
        table.record(pid: 1, startTime: 1, bash)
        table.record(pid: 2, startTime: 1, bash)
        table.record(pid: 3, startTime: 1, bash)  // 1 and 2 are the previous generation now
        #expect(table.process(ofPID: 1, startTime: 1) == bash)  // used: back in the current one
        table.record(pid: 4, startTime: 1, bash)  // the previous generation (2) is forgotten
        #expect(table.process(ofPID: 1, startTime: 1) == bash)
        #expect(table.process(ofPID: 2, startTime: 1) == nil)
        #expect(table.evictions == 1)
    }

    @Test func bytesAreBoundedAndEvictionsCounted() {
        let long = KnownProcess(
            programName: "python3",
            exePath: "/usr/bin/python3.11",
            commandLine: String(repeating: "x", count: 10_000)
        )
        var table = ProcessTable(capacity: 1_000_000, maximumBytes: 50_000)
        for pid in Int64(1)...20 { table.record(pid: pid, startTime: 1, long) }
        #expect(table.heldBytes <= 50_000)
        #expect(table.evictions > 0)
        #expect(table.evictions + table.count == 20)
    }

    @Test func aCommandLineIsCutAtTheArgumentLimit() {
        let huge: ArgumentVector = [
            Array("sh".utf8), [UInt8](repeating: UInt8(ascii: "a"), count: KnownProcess.commandLineLimit),
        ]
        #expect(KnownProcess.commandLine(huge).utf8.count == KnownProcess.commandLineLimit)
        #expect(KnownProcess.commandLine([Array("sh".utf8), Array("-c".utf8), Array("id".utf8)]) == "sh -c id")
    }
}

/// A command line that counts how often it is decoded.
private final class CountingCommandLine: DeferredCommandLine, @unchecked Sendable {
    // Only the test's own thread touches it.
    let text: String
    let heldBytes: Int
    private(set) var decodes = 0

    init(_ text: String, heldBytes: Int = 64) {
        self.text = text
        self.heldBytes = heldBytes
    }

    func decode() -> String? {
        decodes += 1
        return text
    }
}

@Suite("A command line decoded only when a child asks for it")
struct DeferredCommandLineTests {
    @Test func itIsDecodedWhenAChildFirstAsksAndThenKept() {
        let deferred = CountingCommandLine("bash -i")
        var table = ProcessTable()
        table.record(pid: 200, startTime: nil, KnownProcess(programName: "bash", deferredCommandLine: deferred))
        table.record(pid: 201, startTime: nil, KnownProcess(programName: "ls", deferredCommandLine: deferred))
        #expect(deferred.decodes == 0, "recording decodes nothing")
        #expect(table.parent(ofPID: 200, live: nil)?.commandLine == "bash -i")
        #expect(deferred.decodes == 1)
        #expect(table.parent(ofPID: 200, live: nil)?.commandLine == "bash -i")
        #expect(table.process(ofPID: 200, startTime: nil)?.commandLine == "bash -i")
        #expect(deferred.decodes == 1, "the table keeps the text for the parent's other children")
    }

    @Test func aDeferredCommandLineEqualsItsText() {
        let deferred = KnownProcess(
            programName: "bash",
            exePath: "/usr/bin/bash",
            deferredCommandLine: CountingCommandLine("bash -i")
        )
        #expect(deferred == bash)
        #expect(deferred.commandLineIsDeferred)
    }

    @Test func oneHoldingMoreThanTwiceTheLimitIsDecodedAtOnce() {
        let big = CountingCommandLine("x", heldBytes: 2 * KnownProcess.commandLineLimit + 1)
        let process = KnownProcess(programName: "x", deferredCommandLine: big)
        #expect(!process.commandLineIsDeferred)
        #expect(big.decodes == 1)
    }

    @Test func theBudgetHoldsWithDeferredCommandLinesAndDecodingCountsTheText() {
        // Each says it may decode into 12,000 bytes; decoded, it holds 10,000.
        var table = ProcessTable(capacity: 1_000_000, maximumBytes: 50_000)
        for pid in Int64(1)...20 {
            let deferred = CountingCommandLine(String(repeating: "x", count: 10_000), heldBytes: 12_000)
            table.record(pid: pid, startTime: nil, KnownProcess(programName: "python3", deferredCommandLine: deferred))
            #expect(table.heldBytes <= 50_000)
            let before = table.heldBytes
            #expect(table.parent(ofPID: pid, live: nil)?.commandLine?.utf8.count == 10_000)
            #expect(table.heldBytes < before, "the text is counted instead of the estimate")
            #expect(table.heldBytes <= 50_000)
        }
        #expect(table.evictions > 0)
        #expect(table.evictions + table.count == 20)
    }
}

@Suite("invokedPath: the path given to execve, absolute")
struct InvokedPathTests {
    @Test func absolutePathsStayAsGiven() {
        #expect(ExecEvent.invokedPath(Array("/usr/bin/nc".utf8), cwd: "/tmp") == "/usr/bin/nc")
        #expect(ExecEvent.invokedPath(Array("/usr/bin/nc".utf8), cwd: nil) == "/usr/bin/nc")
    }

    @Test func relativePathsJoinTheCwdLexically() {
        #expect(ExecEvent.invokedPath(Array("./x".utf8), cwd: "/cwd") == "/cwd/x")
        #expect(ExecEvent.invokedPath(Array("bin/./x".utf8), cwd: "/cwd/") == "/cwd/bin/x")
        #expect(ExecEvent.invokedPath(Array("../bin/x".utf8), cwd: "/home/u") == "/home/u/../bin/x")
        #expect(ExecEvent.invokedPath(Array("x".utf8), cwd: "/") == "/x")
    }

    @Test func relativeWithoutACwdOrEmptyIsUnknown() {
        #expect(ExecEvent.invokedPath(Array("./x".utf8), cwd: nil) == nil)
        #expect(ExecEvent.invokedPath([UInt8](), cwd: "/") == nil)
    }
}
