import Synchronization

/// What the capture thread's pipeline counts; read by status and metrics from other threads.
public final class PipelineCounters: Sendable {
    /// Audit records or /proc executions taken in.
    public let inputs = Atomic<Int>(0)
    /// LINUX_PROCESS_EXEC events evaluated.
    public let events = Atomic<Int>(0)
    /// Failed execs (`success=no`): counted, not emitted.
    public let failedExecs = Atomic<Int>(0)
    /// Audit records that could not be parsed (skipped).
    public let malformedRecords = Atomic<Int>(0)
    /// Incidents created and updates to them.
    public let incidentsCreated = Atomic<Int>(0)
    public let incidentsUpdated = Atomic<Int>(0)
    /// Incident changes the journal queue could not take (it was full): agent-side loss.
    public let incidentsDropped = Atomic<Int>(0)
    /// Window groups evicted by the group cap.
    public let groupsEvicted = Atomic<Int>(0)

    public init() {}
}
