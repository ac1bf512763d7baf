import Synchronization

/// What a capture source counts, readable from any thread while the capture thread writes it.
/// Loss is never silent: everything a source could not deliver has a counter here.
public final class CaptureCounters: Sendable {
    /// Records (audit) or executions (/proc) delivered to the sink.
    public let delivered = Atomic<Int>(0)
    /// Messages the socket dropped before the agent could read them (ENOBUFS).
    public let socketOverruns = Atomic<Int>(0)
    /// Gaps in audit serial numbers seen on the link.
    public let sequenceGaps = Atomic<Int>(0)
    /// The kernel's own `lost` counter at the last status read.
    public let kernelLost = Atomic<Int>(0)
    /// The kernel's audit backlog at the last status read.
    public let kernelBacklog = Atomic<Int>(0)
    /// Processes that exited before /proc could be read.
    public let processesGone = Atomic<Int>(0)
    /// Executions delivered with only the first part of their arguments (beyond the eBPF
    /// source's limit).
    public let argumentsTruncated = Atomic<Int>(0)
    /// Processes the source's process table forgot to stay within its bounds.
    public let processesEvicted = Atomic<Int>(0)
    /// Messages that could not be understood (skipped).
    public let malformed = Atomic<Int>(0)
    /// Times another program asked to become the audit daemon while this source was it (the
    /// kernel refuses it and tells the daemon with AUDIT_REPLACE).
    public let auditClaimsRefused = Atomic<Int>(0)
    /// The source's own audit rules found removed by another program (`auditctl -D`,
    /// `augenrules --load`) and added again.
    public let auditRulesRestored = Atomic<Int>(0)

    public init() {}
}

extension Atomic where Value == Int {
    /// Adds to a counter (relaxed: counters order nothing else).
    @inlinable
    public func count(_ amount: Int = 1) {
        wrappingAdd(amount, ordering: .relaxed)
    }

    /// The counter's current value.
    @inlinable
    public var current: Int { load(ordering: .relaxed) }

    /// Sets a gauge-like counter (kernel figures read from audit status).
    @inlinable
    public func set(_ value: Int) {
        store(value, ordering: .relaxed)
    }
}
