import ExecEvents

/// What the agent's bounded memory holds and has given up: the engine's and the reassembler's
/// byte budgets, the bytes they hold now (as ``MemoryFootprint`` counts them), what they
/// evicted to stay within them, what the engine forgot because it closed, and the processes the
/// process table forgot.
public struct MemoryStatus: Sendable, Equatable {
    /// `engine.maxBytes`.
    public var engineMaxBytes: Int
    public var engineBytes: Int
    public var groupsEvicted: Int
    public var incidentsForgotten: Int
    public var engineBytesEvicted: Int
    /// Groups and incidents the engine forgot because they closed (their window plus the late
    /// margin passed): not a loss, the journal continues such an incident.
    public var groupsClosed: Int
    public var incidentsClosed: Int
    /// Processes the source's process table forgot to stay within its bounds (their children
    /// then get the parent's facts from `/proc`, or its `comm` alone).
    public var processesEvicted: Int
    /// `reassembly.maxBytes`.
    public var reassemblyMaxBytes: Int
    public var reassemblyBytes: Int
    /// Open audit events completed early (too many open, or over the byte budget).
    public var pendingExecsEvicted: Int

    public init(
        engineMaxBytes: Int = 0,
        engineBytes: Int = 0,
        groupsEvicted: Int = 0,
        incidentsForgotten: Int = 0,
        engineBytesEvicted: Int = 0,
        groupsClosed: Int = 0,
        incidentsClosed: Int = 0,
        processesEvicted: Int = 0,
        reassemblyMaxBytes: Int = 0,
        reassemblyBytes: Int = 0,
        pendingExecsEvicted: Int = 0
    ) {
        self.engineMaxBytes = engineMaxBytes
        self.engineBytes = engineBytes
        self.groupsEvicted = groupsEvicted
        self.incidentsForgotten = incidentsForgotten
        self.engineBytesEvicted = engineBytesEvicted
        self.groupsClosed = groupsClosed
        self.incidentsClosed = incidentsClosed
        self.processesEvicted = processesEvicted
        self.reassemblyMaxBytes = reassemblyMaxBytes
        self.reassemblyBytes = reassemblyBytes
        self.pendingExecsEvicted = pendingExecsEvicted
    }

    /// The facts as (status key, value) pairs, in the order `status` shows them; byte figures'
    /// keys end in `Bytes` (`status` renders them in MiB).
    var facts: [(key: String, value: Int)] {
        [
            ("engineBytes", engineBytes),
            ("engineMaxBytes", engineMaxBytes),
            ("groupsEvicted", groupsEvicted),
            ("incidentsForgotten", incidentsForgotten),
            ("engineEvictedBytes", engineBytesEvicted),
            ("groupsClosed", groupsClosed),
            ("incidentsClosed", incidentsClosed),
            ("processesEvicted", processesEvicted),
            ("reassemblyBytes", reassemblyBytes),
            ("reassemblyMaxBytes", reassemblyMaxBytes),
            ("pendingExecsEvicted", pendingExecsEvicted),
        ]
    }

    /// The Prometheus metrics of these facts: `metric(name, type, help, value)`.
    func expose(_ metric: (String, String, String, String) -> Void) {
        metric("engine_memory_bytes", "gauge", "Bytes the rule engine holds (windows, incidents).", String(engineBytes))
        metric(
            "engine_memory_budget_bytes",
            "gauge",
            "The rule engine's byte budget (engine.maxBytes).",
            String(engineMaxBytes)
        )
        metric(
            "groups_evicted_total",
            "counter",
            "Window groups evicted (group cap or byte budget).",
            String(groupsEvicted)
        )
        metric(
            "incidents_forgotten_total",
            "counter",
            "Incidents the engine forgot (cap or byte budget).",
            String(incidentsForgotten)
        )
        metric(
            "engine_evicted_bytes_total",
            "counter",
            "Bytes the rule engine gave up by evicting.",
            String(engineBytesEvicted)
        )
        metric(
            "groups_closed_total",
            "counter",
            "Window groups the engine forgot because they closed.",
            String(groupsClosed)
        )
        metric(
            "incidents_closed_total",
            "counter",
            "Incidents the engine forgot because they closed (the journal continues them).",
            String(incidentsClosed)
        )
        metric(
            "processes_evicted_total",
            "counter",
            "Processes the process table forgot to stay within its bounds.",
            String(processesEvicted)
        )
        metric("reassembly_memory_bytes", "gauge", "Bytes open audit events hold.", String(reassemblyBytes))
        metric(
            "reassembly_memory_budget_bytes",
            "gauge",
            "The reassembler's byte budget (reassembly.maxBytes).",
            String(reassemblyMaxBytes)
        )
        metric(
            "pending_execs_evicted_total",
            "counter",
            "Open audit events completed early (count or byte budget).",
            String(pendingExecsEvicted)
        )
    }
}
