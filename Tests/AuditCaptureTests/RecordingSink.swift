import AuditRecords
import Capture
import ExecEvents
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A sink that runs the records through the core (reassembly, normalization) and keeps the exec
/// events, for the test thread to look at while the capture thread writes.
///
/// `@unchecked Sendable`: every access to `unguardedState` is inside `withState`, under `lock`.
/// (A `Mutex` would not do: the record bytes the source lends are not `Sendable`, and region
/// checking will not let them into a mutex-protected value's methods.)
final class RecordingSink: CaptureSink, @unchecked Sendable {
    private struct State {
        var assembler = AuditEventAssembler(graceMilliseconds: 500)
        var normalizer = ExecEventNormalizer(hostName: "test-host")
        var events: [ExecEvent] = []
        var records = 0
        var lines = 0
        var idleCalls = 0
        var unparsed: [String] = []

        mutating func normalize(_ completed: [AuditEventAssembler.CompletedExec]) {
            for exec in completed { events.append(normalizer.event(from: exec)) }
        }
    }

    private let lock = NSLock()
    private var unguardedState = State()

    private func withState<Result>(_ body: (inout State) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&unguardedState)
    }

    func auditRecord(type: UInt16, payload: UnsafeRawBufferPointer) {
        withState { state in
            state.records += 1
            var completed: [AuditEventAssembler.CompletedExec] = []
            if let reason = state.assembler.ingest(type: type, payload: payload, { completed.append($0) }) {
                state.unparsed.append("\(type): \(reason)")
            }
            state.normalize(completed)
        }
    }

    func auditLine(_ line: UnsafeRawBufferPointer) {
        withState { state in
            state.lines += 1
            var completed: [AuditEventAssembler.CompletedExec] = []
            if let reason = state.assembler.ingest(line: line, { completed.append($0) }) {
                state.unparsed.append(reason)
            }
            state.normalize(completed)
        }
    }

    func exec(_ event: ExecEvent) {
        withState { $0.events.append(event) }
    }

    func idle(now: EventTime) {
        withState { state in
            state.idleCalls += 1
            var completed: [AuditEventAssembler.CompletedExec] = []
            state.assembler.expire(now: now) { completed.append($0) }
            state.normalize(completed)
        }
    }

    /// Completes what is still open (after the source stopped).
    func finish() {
        withState { state in
            var completed: [AuditEventAssembler.CompletedExec] = []
            state.assembler.finish { completed.append($0) }
            state.normalize(completed)
        }
    }

    var events: [ExecEvent] { withState { $0.events } }
    var records: Int { withState { $0.records } }
    var lines: Int { withState { $0.lines } }
    var idleCalls: Int { withState { $0.idleCalls } }
    var unparsed: [String] { withState { $0.unparsed } }
    var statistics: AuditStatistics { withState { $0.assembler.statistics } }

    /// The events of processes this test started: children of this process, and their children
    /// (a program `runuser` started). Execs of everything else on the host are left out.
    var eventsOfThisTest: [ExecEvent] {
        var ours: Set<Int64> = [Int64(getpid())]
        var result: [ExecEvent] = []
        for event in events {
            guard let parent = event.parentProcId, ours.contains(parent) else { continue }
            if let pid = event.procId { ours.insert(pid) }
            result.append(event)
        }
        return result
    }

    /// Waits until `done` holds for this test's events; false after `timeoutSeconds`.
    func wait(timeoutSeconds: Double = 10, until done: ([ExecEvent]) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
        while ContinuousClock.now < deadline {
            if done(eventsOfThisTest) { return true }
            usleep(50_000)
        }
        return done(eventsOfThisTest)
    }
}
