import ExecEvents
import Testing

@testable import ProcCapture

/// The /proc file formats, parsed from bytes as the kernel writes them.
@Suite struct ProcParsingTests {
    private func stat(_ text: String) -> ProcStat? {
        Array(text.utf8).withUnsafeBytes { ProcStat.parse($0) }
    }

    @Test func statFieldsAfterTheLastParenthesis() throws {
        // comm may hold spaces and parentheses: fields are counted after the LAST ')'.
        let line =
            "4242 (a) b (c)) S 4200 4242 4200 34819 4242 4194304 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 1 "
            + "18446744073709551615 94000 95000 140720000 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        let parsed = try #require(stat(line))
        let comm = Array(line.utf8)[parsed.commRange]
        #expect(String(decoding: comm, as: UTF8.self) == "a) b (c)")
        #expect(parsed.state == UInt8(ascii: "S"))
        #expect(parsed.parentPID == 4200)
        #expect(parsed.terminalNumber == 34819)
        #expect(parsed.startTime == 987_654)
        #expect(parsed.startCode == 94000)
        #expect(parsed.startStack == 140_720_000)
        #expect(!parsed.isKernelThread)
    }

    @Test func kernelThreadFlag() throws {
        let kthreadd =
            "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 1 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 0 0 0 0 0 "
            + "2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        let parsed = try #require(stat(kthreadd))
        #expect(parsed.isKernelThread)
        #expect(parsed.startCode == 0 && parsed.startStack == 0)
    }

    @Test func statThatIsCutShortIsRejected() {
        #expect(stat("12 (x) S 1 2 3 4 5 6") == nil)
        #expect(stat("no parentheses at all") == nil)
        #expect(stat("12 (x) S notanumber 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1") == nil)
    }

    @Test func realAndEffectiveUIDFromStatus() {
        let status = "Name:\tsudo\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t1000\t0\t0\t0\n"
        let ids = Array(status.utf8).withUnsafeBytes { ProcStatusIDs.parse($0) }
        #expect(ids == ProcStatusIDs(realUID: 1000, effectiveUID: 0))
        let none = Array("Name:\tx\n".utf8).withUnsafeBytes { ProcStatusIDs.parse($0) }
        #expect(none == nil)
    }

    @Test func commandLineSplitsOnNULKeepingEmptyArguments() {
        func split(_ bytes: [UInt8]) -> ArgumentVector { bytes.withUnsafeBytes { ArgumentVector(nulTerminated: $0) } }
        let a = UInt8(ascii: "a")
        let b = UInt8(ascii: "b")
        #expect(split([a, 0, 0, b, 0]) == [[a], [], [b]])  // the final NUL adds nothing
        #expect(split([a, 0, b]) == [[a], [b]])  // argv area rewritten without a final NUL
        #expect(split([0]) == [[]])  // execve with an empty argv: the kernel adds ""
        #expect(split([]) == [])  // kernel thread, or exited
        #expect(split([a, 0xff, 0xfe, 0, 0]) == [[a, 0xff, 0xfe], []])
    }

    @Test func programNameKeepsCommUnlessTheKernelCutIt() {
        func name(_ comm: String, _ arguments: [String], exe: String?) -> String {
            let resolved = ProgramName.resolve(
                comm: Array(comm.utf8),
                arguments: ArgumentVector(arguments.map(\.utf8)),
                exe: exe.map { Array($0.utf8) }
            )
            return String(decoding: resolved, as: UTF8.self)
        }
        // Shorter than 15 bytes: comm is the name as invoked (`nc`, not the alternative's target).
        #expect(name("nc", ["nc", "-h"], exe: "/usr/bin/nc.openbsd") == "nc")
        #expect(name("nc.traditional", ["nc.traditional"], exe: "/usr/bin/nc.traditional") == "nc.traditional")
        // Cut to 15: argv[0]'s base name first, then exe's, then a script's (argv[1]).
        let long = "a-very-long-pro"
        #expect(
            name(long, ["/tmp/x/a-very-long-program-name", "5"], exe: "/tmp/x/other") == "a-very-long-program-name"
        )
        #expect(name(long, ["renamed", "5"], exe: "/tmp/x/a-very-long-program-name") == "a-very-long-program-name")
        #expect(
            name(long, ["/bin/sh", "./a-very-long-program-name.sh"], exe: "/usr/bin/dash")
                == "a-very-long-program-name.sh"
        )
        #expect(name(long, ["other"], exe: "/usr/bin/other") == long)
        #expect(name(long, [], exe: nil) == long)
    }

    @Test func baseNames() {
        func base(_ path: String) -> String {
            String(decoding: ProgramName.baseName(Array(path.utf8)[...]), as: UTF8.self)
        }
        #expect(base("/usr/bin/nc") == "nc")
        #expect(base("nc") == "nc")
        #expect(base("./dir/") == "dir")
        #expect(base("/") == "")
    }

    @Test func terminalNamesAsAuditWritesThem() {
        func number(major: UInt32, minor: UInt32) -> UInt32 { (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12) }
        #expect(TerminalName.name(terminalNumber: 0) == nil)
        #expect(TerminalName.name(terminalNumber: number(major: 136, minor: 3)) == "pts3")
        #expect(TerminalName.name(terminalNumber: number(major: 136, minor: 300)) == "pts300")
        #expect(TerminalName.name(terminalNumber: number(major: 137, minor: 1)) == "pts257")
        #expect(TerminalName.name(terminalNumber: number(major: 4, minor: 1)) == "tty1")
        #expect(TerminalName.name(terminalNumber: number(major: 4, minor: 64)) == "ttyS0")
        #expect(TerminalName.name(terminalNumber: number(major: 8, minor: 1)) == nil)
    }

    @Test func deletedExecutableLosesTheKernelsSuffix() {
        let deleted = ProcessSnapshotReader.withoutDeletedSuffix(Array("/tmp/x/prog (deleted)".utf8))
        #expect(deleted == Array("/tmp/x/prog".utf8))
        #expect(ProcessSnapshotReader.withoutDeletedSuffix(Array("/usr/bin/nc".utf8)) == Array("/usr/bin/nc".utf8))
    }
}
