import ExecEvents
import HostProcesses
import Testing

@testable import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Snapshots of real processes this test starts: every attribute of DESIGN.md's /proc column.
@Suite struct ProcessSnapshotTests {
    @Test func argumentsAreReadAsExactBytes() throws {
        let directory = try TemporaryDirectory()
        let script = "cd \(directory.path) && /bin/sleep 5; :"
        // sh ignores the arguments after its script: spaces, an empty one, bytes that are not UTF-8
        let arguments: [[UInt8]] = [
            bytes("/bin/sh"), bytes("-c"), bytes(script), bytes("a b"), [], [0xff, 0xfe, 0x41], bytes("z"),
        ]
        let child = try ChildProcess("/bin/sh", argv: arguments)
        _ = try child.waitForChild(running: "sleep")  // the shell has changed directory

        var reader = ProcessSnapshotReader(configuration: .init(hostName: "test-host"))
        let snapshot = try taken(reader.snapshot(of: child.pid))
        let event = snapshot.event
        #expect(event.eventType == "LINUX_PROCESS_EXEC")
        #expect(event.hostName == "test-host")
        #expect(event.args == ArgumentVector(arguments))
        #expect(event.swParam == "-c \(script) a b  \u{FFFD}\u{FFFD}A z")
        #expect(event.procName == "sh")
        #expect(event.procId == Int64(child.pid))
        #expect(event.parentProcId == Int64(getpid()))
        // The parent (this test) predates the reader: its facts come from /proc.
        #expect(event.parentProcName.map { $0.hasPrefix(ownComm() ?? "?") } == true)
        #expect(event.parentExePath == resolvedPath("/proc/self/exe"))
        let ownArguments = readText("/proc/self/cmdline").map { $0.split(separator: "\0").joined(separator: " ") }
        #expect(event.parentCommandLine == ownArguments)
        #expect(event.invokedPath == "/bin/sh")
        #expect(event.exePath == resolvedPath("/bin/sh"))
        #expect(event.cwd == resolvedPath(directory.path))
        #expect(event.uid == Int64(getuid()))
        #expect(event.euid == Int64(geteuid()))
        #expect(event.user == UserNameCache.hostDatabase(getuid()))
        let loginUID = UInt32(readText("/proc/self/loginuid") ?? "") ?? UInt32.max
        #expect(event.auid == (loginUID == UInt32.max ? nil : Int64(loginUID)))
        #expect(snapshot.startTime > 0)
        let now = EventTime.now.millisecondsSinceEpoch
        #expect(abs(event.eventTime.millisecondsSinceEpoch - now) < 5000)
    }

    @Test func userNamesComeFromTheInjectedLookup() throws {
        let child = try ChildProcess("/bin/sleep", arguments: "5")
        try child.waitUntilExecuted()
        var named = ProcessSnapshotReader(configuration: .init(hostName: "h", userName: { "user-\($0)" }))
        #expect(try taken(named.snapshot(of: child.pid)).event.user == "user-\(getuid())")
        var unknown = ProcessSnapshotReader(configuration: .init(hostName: "h", userName: { _ in nil }))
        #expect(try taken(unknown.snapshot(of: child.pid)).event.user == String(getuid()))
    }

    /// comm keeps 15 bytes: a longer name comes from argv[0], else from exe, even once deleted.
    @Test func namesLongerThanCommAreReadInFull() throws {
        let directory = try TemporaryDirectory()
        let program = try directory.copyExecutable("/bin/sleep", as: "a-very-long-program-name")
        let invoked = try ChildProcess(program, arguments: "5")
        let renamed = try ChildProcess(program, argv: [bytes("renamed"), bytes("5")])
        try invoked.waitUntilExecuted()
        try renamed.waitUntilExecuted()
        var reader = ProcessSnapshotReader(configuration: .init(hostName: "h"))

        let first = try taken(reader.snapshot(of: invoked.pid)).event
        #expect(readText("/proc/\(invoked.pid)/comm") == "a-very-long-pro\n")
        #expect(first.procName == "a-very-long-program-name")
        #expect(first.exePath == program)
        #expect(first.swParam == "5")

        unlink(program)  // the kernel now shows exe as "… (deleted)"
        let second = try taken(reader.snapshot(of: renamed.pid)).event
        #expect(second.procName == "a-very-long-program-name")
        #expect(second.exePath == program)
        #expect(second.args == [bytes("renamed"), bytes("5")])
    }

    /// A parent the reader has read is named by its full procName, not its cut comm.
    @Test func parentNameComesFromProcessesReadBefore() throws {
        let directory = try TemporaryDirectory()
        let shell = try directory.copyExecutable("/bin/sh", as: "a-very-long-shell-name")
        let parent = try ChildProcess(shell, arguments: "-c", "/bin/sleep 5; :")
        try parent.waitUntilExecuted()
        let child = try parent.waitForChild(running: "sleep")

        // A parent this reader has not read is read from /proc: its full name, exe and cmdline.
        var fresh = ProcessSnapshotReader(configuration: .init(hostName: "h"))
        let fromProc = try taken(fresh.snapshot(of: child)).event
        #expect(fromProc.parentProcName == "a-very-long-shell-name")
        #expect(fromProc.parentExePath == shell)
        #expect(fromProc.parentCommandLine == "\(shell) -c /bin/sleep 5; :")
        #expect(fromProc.invokedPath == "/bin/sleep")

        var reader = ProcessSnapshotReader(configuration: .init(hostName: "h"))
        #expect(try taken(reader.snapshot(of: parent.pid)).event.procName == "a-very-long-shell-name")
        let event = try taken(reader.snapshot(of: child)).event
        #expect(event.parentProcName == "a-very-long-shell-name")
        #expect(event.parentExePath == shell)
        #expect(event.parentCommandLine == "\(shell) -c /bin/sleep 5; :")
        #expect(event.parentProcId == Int64(parent.pid))
        #expect(event.procName == "sleep")
    }

    @Test func exitedProcessesAreGoneAndKernelThreadsSkipped() throws {
        let child = try ChildProcess("/bin/true")
        child.wait()
        var reader = ProcessSnapshotReader(configuration: .init(hostName: "h"))
        #expect(reader.snapshot(of: child.pid) == .gone)
        #expect(reader.snapshot(of: 2) == .kernelThread)  // kthreadd
    }
}
