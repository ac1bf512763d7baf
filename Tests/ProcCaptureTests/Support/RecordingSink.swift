import Capture
import ExecEvents
import Synchronization

/// A sink that keeps every event delivered to it; readable from the test while the capture thread
/// writes.
final class RecordingSink: CaptureSink, Sendable {
    private let events = Mutex<[ExecEvent]>([])
    private let idleCalls = Atomic<Int>(0)

    var delivered: [ExecEvent] { events.withLock { $0 } }
    var idleCount: Int { idleCalls.load(ordering: .relaxed) }

    func exec(_ event: ExecEvent) { events.withLock { $0.append(event) } }
    func idle(now: EventTime) { idleCalls.add(1, ordering: .relaxed) }
    func auditRecord(type: UInt16, payload: UnsafeRawBufferPointer) {}
    func auditLine(_ line: UnsafeRawBufferPointer) {}

    /// The events of one process.
    func events(ofPID pid: Int32) -> [ExecEvent] { delivered.filter { $0.procId == Int64(pid) } }

    /// Waits until `condition` holds for the events delivered so far, or the time is up.
    func waitFor(timeoutSeconds: Double = 5, _ condition: ([ExecEvent]) -> Bool) -> Bool {
        let deadline = monotonicSeconds() + timeoutSeconds
        while monotonicSeconds() < deadline {
            if condition(delivered) { return true }
            sleepSeconds(0.02)
        }
        return condition(delivered)
    }
}
