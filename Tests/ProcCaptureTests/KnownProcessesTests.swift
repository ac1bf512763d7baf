import Testing

@testable import ProcCapture

/// The poller's diff of /proc scans, with made-up scans: which processes count as executions.
@Suite struct KnownProcessesTests {
    private func process(
        _ pid: Int32,
        parent: Int32 = 1,
        start: UInt64 = 100,
        image: UInt64 = 0,
        kernel: Bool = false
    ) -> ScannedProcess {
        ScannedProcess(
            pid: pid,
            parentPID: parent,
            startTime: start,
            image: image == 0 ? .none : ProgramImage(startCode: image, startStack: image + 1),
            isKernelThread: kernel
        )
    }

    @Test func theFirstScanOnlyRecords() {
        var known = KnownProcesses()
        #expect(known.update(with: [process(1, parent: 0, image: 10), process(50, image: 20)]).isEmpty)
        #expect(known.count == 2)
        #expect(known.update(with: [process(1, parent: 0, image: 10), process(50, image: 20)]).isEmpty)
    }

    @Test func aNewProcessIsReportedOnce() {
        var known = KnownProcesses()
        _ = known.update(with: [process(1, parent: 0, image: 10)])
        let sleeper = process(60, image: 30)
        #expect(known.update(with: [process(1, parent: 0, image: 10), sleeper]) == [.started(sleeper)])
        #expect(known.update(with: [process(1, parent: 0, image: 10), sleeper]).isEmpty)
    }

    @Test func aReusedPIDIsANewProcess() {
        var known = KnownProcesses()
        _ = known.update(with: [process(1, parent: 0, image: 10), process(70, start: 100, image: 40)])
        // pid 70 exited between scans and the pid was given to a new process running the same program
        let reused = process(70, start: 180, image: 40)
        #expect(known.update(with: [process(1, parent: 0, image: 10), reused]) == [.started(reused)])
    }

    @Test func execWithoutForkIsReported() {
        var known = KnownProcesses()
        _ = known.update(with: [process(1, parent: 0, image: 10), process(80, image: 50)])
        let execed = process(80, image: 51)  // same pid and start time, new code and stack
        #expect(known.update(with: [process(1, parent: 0, image: 10), execed]) == [.executed(execed)])
    }

    @Test func aForkedCopyWaitsForItsExec() {
        var known = KnownProcesses()
        let shell = process(90, image: 60)
        _ = known.update(with: [process(1, parent: 0, image: 10), shell])
        // forked, not executed: same image as its parent
        #expect(
            known.update(with: [process(1, parent: 0, image: 10), shell, process(91, parent: 90, image: 60)]).isEmpty
        )
        let child = process(91, parent: 90, image: 61)
        #expect(known.update(with: [process(1, parent: 0, image: 10), shell, child]) == [.executed(child)])
    }

    @Test func aForkedCopyOfAParentThatExecutedSinceIsNotReported() {
        var known = KnownProcesses()
        _ = known.update(with: [process(1, parent: 0, image: 10), process(95, image: 70)])
        let parentNow = process(95, image: 71)
        let copy = process(96, parent: 95, image: 70)
        #expect(known.update(with: [process(1, parent: 0, image: 10), parentNow, copy]) == [.executed(parentNow)])
    }

    @Test func exitingProcessesAndKernelThreadsAreNotExecutions() {
        var known = KnownProcesses()
        _ = known.update(with: [
            process(1, parent: 0, image: 10), process(100, image: 80), process(3, parent: 2, kernel: true),
        ])
        // pid 100 is a zombie now (no memory): not an exec; when it goes, nothing either
        let zombie = process(100, image: 0)
        let kthread = process(4, parent: 2, start: 150, kernel: true)
        #expect(
            known.update(with: [process(1, parent: 0, image: 10), zombie, process(3, parent: 2, kernel: true), kthread])
                .isEmpty
        )
        #expect(known.update(with: [process(1, parent: 0, image: 10), zombie]).isEmpty)
        #expect(known.update(with: [process(1, parent: 0, image: 10)]).isEmpty)
    }

    @Test func aProcessCaughtInTheMiddleOfItsExecIsReportedOnceItHasAnImage() {
        var known = KnownProcesses()
        _ = known.update(with: [process(1, parent: 0, image: 10)])
        #expect(known.update(with: [process(1, parent: 0, image: 10), process(110)]).isEmpty)
        let settled = process(110, image: 90)
        #expect(known.update(with: [process(1, parent: 0, image: 10), settled]) == [.started(settled)])
    }

    @Test func aForgottenProcessIsReportedAgain() {
        var known = KnownProcesses()
        _ = known.update(with: [process(1, parent: 0, image: 10)])
        let unread = process(120, image: 95)
        #expect(known.update(with: [process(1, parent: 0, image: 10), unread]) == [.started(unread)])
        known.forget(pid: 120)  // its snapshot failed: not yet readable
        #expect(known.update(with: [process(1, parent: 0, image: 10), unread]) == [.started(unread)])
    }
}
