import Capture
import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// Executions found by scanning /proc at a fixed period: the last resort, when neither audit nor
/// the proc connector is available. Needs no privilege beyond reading /proc (root reads the
/// `cmdline`, `exe` and `cwd` of every process).
///
/// It reports processes that started, or executed a new program, since the last scan (see
/// `KnownProcesses`); a process that lives and dies between two scans is never seen, and
/// ``limitation`` says so in words for the agent's status. Processes already running when it
/// starts are not reported: its first scan only records them, and it reports itself set up
/// (``whenSetUp``) after that scan, so an exec after that moment is never taken for one of them.
///
/// Sendable without `@unchecked`: the configuration is immutable, the counters are atomic, and the
/// process table and buffers are created by ``run(into:until:)`` on the capture thread.
public final class ProcPollSource: CaptureSource {
    public let name = "proc-poll"
    public let counters = CaptureCounters()
    /// Time between two scans.
    public let period: Duration
    /// How events are filled in (host name, user names).
    public let snapshotConfiguration: ProcessSnapshotReader.Configuration
    /// Run on the capture thread once the first scan has recorded what already runs: from then on
    /// every new process or exec is reported (the agent then says it is running).
    public let whenSetUp: @Sendable () -> Void

    public init(
        period: Duration = .seconds(1),
        snapshotConfiguration: ProcessSnapshotReader.Configuration = .init(),
        whenSetUp: @escaping @Sendable () -> Void = {}
    ) {
        self.period = max(period, .milliseconds(10))
        self.snapshotConfiguration = snapshotConfiguration
        self.whenSetUp = whenSetUp
    }

    /// What this source cannot see, for the agent's status.
    public var limitation: String {
        "polling every \(period.milliseconds) ms: processes shorter-lived than that can be missed"
    }

    /// Scans until `stop` is signalled; the first scan only records what already runs.
    public func run(into sink: any CaptureSink, until stop: StopSignal) throws {
        let scanner = ProcScanner()
        var known = KnownProcesses()
        var reader = ProcessSnapshotReader(configuration: snapshotConfiguration)
        var scan: [ScannedProcess] = []
        let periodNanoseconds = UInt64(period.milliseconds) * 1_000_000
        var nextScan = MonotonicClock.nanoseconds()
        var stopEntry = pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0)
        var firstScan = true
        while true {
            try scanner.scan(into: &scan)
            var delivered = 0
            for change in known.update(with: scan) {
                if deliver(change.process, reader: &reader, to: sink) {
                    delivered += 1
                } else {
                    known.forget(pid: change.process.pid)  // if it still runs, the next scan retries
                }
            }
            if delivered == 0 { sink.idle(now: EventTime.now) }
            if firstScan {
                firstScan = false
                whenSetUp()
            }

            nextScan += periodNanoseconds
            let now = MonotonicClock.nanoseconds()
            if nextScan < now { nextScan = now }  // a late scan does not cause a burst of scans
            while true {
                let waitMilliseconds = Int32(
                    clamping: (nextScan - min(nextScan, MonotonicClock.nanoseconds())) / 1_000_000
                )
                let ready = poll(&stopEntry, 1, waitMilliseconds)
                if ready > 0 { return }
                if ready == 0 || errno != EINTR { break }
            }
        }
    }

    /// Reads a process the scan found new and hands it to the sink; false when it is not delivered.
    private func deliver(
        _ process: ScannedProcess,
        reader: inout ProcessSnapshotReader,
        to sink: any CaptureSink
    ) -> Bool {
        switch reader.snapshot(of: process.pid) {
        case .taken(let snapshot) where snapshot.startTime == process.startTime:
            sink.exec(snapshot.event)
            counters.delivered.count()
            counters.processesEvicted.set(reader.processTableEvictions)
            return true
        case .taken, .gone:
            // Exited since the scan (with another start time, the pid was even reused already).
            counters.processesGone.count()
            return false
        case .kernelThread, .notYetReadable:
            return false
        }
    }
}
