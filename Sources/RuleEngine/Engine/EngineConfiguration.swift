/// Settings of a ``DetectionEngine``: who it reports as and the bounds on its memory.
public struct EngineConfiguration: Sendable {
    /// Written into every incident as `agentId`.
    public var agentId: String
    /// Most groups (windows) kept across all rules; the least recently used group is evicted
    /// beyond it. Its incident survives eviction (see ``maxIncidents``).
    public var maxLiveGroups: Int
    /// Most events one group's window keeps; the oldest are dropped beyond it.
    public var maxEventsPerGroup: Int
    /// Most incidents remembered for updates; the least recently changed is forgotten beyond it
    /// (a later trigger of its group then creates it again, with the same id, at version 1).
    public var maxIncidents: Int
    /// Most events kept in an incident's `triggerEvents`.
    public var maxTriggerEvents: Int
    /// Most bytes the engine's windows (with the events they remember for `triggerEvents`) and
    /// incidents may hold, as ``MemoryFootprint`` counts them; checked after every event.
    /// Incidents may take at most half of it (the least recently changed are forgotten beyond
    /// that); beyond the whole, the least recently used groups are evicted.
    public var maxBytes: Int
    /// Whether groups and incidents are forgotten once closed: a group when its newest event is
    /// more than its rule's window plus ``closedMarginMilliseconds`` before the event being
    /// processed (no later event can join its window), an incident when its `lastSeen` is. Safe
    /// where a journal owns versions and counts (the agent): a later trigger of the group creates
    /// the incident again and the journal continues it. Off by default: `replay` and `rules test`
    /// print the incidents the engine holds at the end.
    public var forgetsClosedGroups: Bool

    /// Slack for events that arrive late (sources interleave, capture lags): a closed group is
    /// kept this much longer than its window.
    public static let closedMarginMilliseconds: Int64 = 60_000

    /// 32 MiB: a few hundred groups even when every event carries 100 KiB of arguments.
    public static let defaultMaxBytes = 32 << 20

    public init(
        agentId: String,
        maxLiveGroups: Int = 100_000,
        maxEventsPerGroup: Int = 10_000,
        maxIncidents: Int = 10_000,
        maxTriggerEvents: Int = 10,
        maxBytes: Int = EngineConfiguration.defaultMaxBytes,
        forgetsClosedGroups: Bool = false
    ) {
        self.agentId = agentId
        self.maxLiveGroups = max(1, maxLiveGroups)
        self.maxEventsPerGroup = max(1, maxEventsPerGroup)
        self.maxIncidents = max(1, maxIncidents)
        self.maxTriggerEvents = max(0, maxTriggerEvents)
        self.maxBytes = max(1, maxBytes)
        self.forgetsClosedGroups = forgetsClosedGroups
    }
}

/// What the engine has done so far.
public struct EngineCounters: Sendable, Equatable {
    /// Events given to ``DetectionEngine/process(_:)``.
    public var eventsProcessed: UInt64 = 0
    /// Filter evaluations (one per event and candidate rule after indexing).
    public var filterEvaluations: UInt64 = 0
    /// Filter evaluations that matched.
    public var matches: UInt64 = 0
    /// Groups currently holding a window.
    public var groupsLive: Int = 0
    /// Bytes held by windows and incidents (see ``EngineConfiguration/maxBytes``).
    public var bytesHeld: Int = 0
    /// Groups evicted because of ``EngineConfiguration/maxLiveGroups`` or
    /// ``EngineConfiguration/maxBytes``.
    public var groupsEvicted: UInt64 = 0
    /// Bytes given up by evicting groups and forgetting incidents.
    public var bytesEvicted: UInt64 = 0
    /// Window entries dropped because of ``EngineConfiguration/maxEventsPerGroup``.
    public var windowEntriesDropped: UInt64 = 0
    public var incidentsCreated: UInt64 = 0
    public var incidentsUpdated: UInt64 = 0
    /// Incidents forgotten because of ``EngineConfiguration/maxIncidents`` or
    /// ``EngineConfiguration/maxBytes``.
    public var incidentsForgotten: UInt64 = 0
    /// Groups forgotten because they closed (``EngineConfiguration/forgetsClosedGroups``).
    public var groupsClosed: UInt64 = 0
    /// Incidents forgotten because they closed (``EngineConfiguration/forgetsClosedGroups``).
    public var incidentsClosed: UInt64 = 0

    public init() {}
}
