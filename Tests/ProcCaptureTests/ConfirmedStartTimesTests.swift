import Testing

@testable import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Parents' start times read once and then vouched for by a pidfd, with real processes: a
/// process that exits is read again, a pid given to another process never answers with the
/// first one's start time.
@Suite struct ConfirmedStartTimesTests {
    private func procStartTime(_ pid: Int32) -> UInt64? {
        guard let text = readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    @Test func aRunningProcessIsReadOnceThenVouchedFor() throws {
        let child = try ChildProcess("/bin/sleep", arguments: "30")
        let reader = RunningProcessReader()
        let first = reader.startTime(ofPID: Int64(child.pid))
        #expect(first != nil)
        #expect(first == procStartTime(child.pid))
        for _ in 0..<5 { #expect(reader.startTime(ofPID: Int64(child.pid)) == first) }
        #expect(reader.confirmedStartTimes.reads == 1)
        #expect(reader.confirmedStartTimes.count == 1)
    }

    @Test func anExitedProcessIsReadAgain() throws {
        let child = try ChildProcess("/bin/sleep", arguments: "30")
        let reader = RunningProcessReader()
        let started = reader.startTime(ofPID: Int64(child.pid))
        #expect(started != nil)
        kill(child.pid, SIGKILL)
        child.wait()
        #expect(reader.startTime(ofPID: Int64(child.pid)) == nil)
        #expect(reader.confirmedStartTimes.reads == 2)
        #expect(reader.confirmedStartTimes.count == 0)
    }

    @Test func aPIDGivenToAnotherProcessAnswersWithTheNewStartTime() throws {
        // The pid is reused while the table holds the old process's pidfd: `read` stands in for
        // /proc showing the new process under the same pid.
        let child = try ChildProcess("/bin/sleep", arguments: "30")
        let confirmed = ConfirmedStartTimes()
        #expect(confirmed.startTime(ofPID: child.pid) { 100 } == 100)
        #expect(confirmed.startTime(ofPID: child.pid) { 999 } == 100)
        kill(child.pid, SIGKILL)
        child.wait()
        #expect(confirmed.startTime(ofPID: child.pid) { 200 } == 200)
        #expect(confirmed.reads == 2)
    }

    @Test func aProcessThatExitsDuringTheReadIsAnsweredButNotKept() throws {
        let child = try ChildProcess("/bin/sleep", arguments: "30")
        let confirmed = ConfirmedStartTimes()
        let answer = confirmed.startTime(ofPID: child.pid) {
            kill(child.pid, SIGKILL)
            child.wait()
            return 100
        }
        #expect(answer == 100)
        #expect(confirmed.count == 0)
    }

    @Test func noSuchProcessIsNil() {
        let confirmed = ConfirmedStartTimes()
        // A pid no process holds: the highest free one below 4,194,000 (kill(pid, 0) says ESRCH).
        var unused: Int32 = 4_194_000
        while kill(unused, 0) == 0 || errno != ESRCH { unused -= 1 }
        #expect(confirmed.startTime(ofPID: unused) { nil } == nil)
        #expect(confirmed.count == 0)
    }

    @Test func aFullTableClosesItsDescriptorsAndStartsAgain() throws {
        let children = try (0..<3).map { _ in try ChildProcess("/bin/sleep", arguments: "30") }
        let confirmed = ConfirmedStartTimes(capacity: 2)
        for child in children {
            #expect(confirmed.startTime(ofPID: child.pid) { procStartTime(child.pid) } == procStartTime(child.pid))
        }
        #expect(confirmed.count == 1)
        #expect(confirmed.reads == 3)
        // The first two were dropped with the full table: read again.
        _ = confirmed.startTime(ofPID: children[0].pid) { procStartTime(children[0].pid) }
        #expect(confirmed.reads == 4)
        #expect(confirmed.count == 2)
    }
}
