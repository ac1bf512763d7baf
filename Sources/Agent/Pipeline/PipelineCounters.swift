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
    /// Window groups evicted by the group cap or the engine's byte budget.
    public let groupsEvicted = Atomic<Int>(0)
    /// Incidents the engine forgot (its incident cap or byte budget).
    public let incidentsForgotten = Atomic<Int>(0)
    /// Bytes the engine gave up by evicting groups and forgetting incidents.
    public let engineBytesEvicted = Atomic<Int>(0)
    /// Window groups and incidents the engine forgot because they closed.
    public let groupsClosed = Atomic<Int>(0)
    public let incidentsClosed = Atomic<Int>(0)
    /// Processes the audit normalizer's process table forgot (the other sources count theirs in
    /// ``CaptureCounters/processesEvicted``).
    public let processesEvicted = Atomic<Int>(0)
    /// Bytes the engine holds now (windows, remembered events, incidents).
    public let engineBytes = Atomic<Int>(0)
    /// Open audit events completed early because too many were open or they held too many bytes.
    public let pendingExecsEvicted = Atomic<Int>(0)
    /// Bytes the reassembler's open audit events hold now.
    public let reassemblyBytes = Atomic<Int>(0)

    public init() {}
}
