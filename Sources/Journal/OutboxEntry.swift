import ExecEvents
import RuleEngine

/// One incident change waiting in the outbox for the forwarder.
///
/// `seq` grows with every row ever enqueued and is never reused, even after the rows before it
/// were acknowledged: a forwarder can resume from the last `seq` it had acknowledged.
public struct OutboxEntry: Sendable, Equatable {
    public var seq: Int64
    public var incidentId: IncidentID
    public var version: Int64
    public var kind: IncidentUpdate.Kind
    /// The incident JSON of DESIGN.md at this version, one line.
    public var json: String
    /// Wall-clock time the change was stored.
    public var enqueuedAt: EventTime

    public init(
        seq: Int64,
        incidentId: IncidentID,
        version: Int64,
        kind: IncidentUpdate.Kind,
        json: String,
        enqueuedAt: EventTime
    ) {
        self.seq = seq
        self.incidentId = incidentId
        self.version = version
        self.kind = kind
        self.json = json
        self.enqueuedAt = enqueuedAt
    }
}

/// What ``IncidentJournal/trimOutbox(toAtMost:)`` dropped to bring the outbox within its bound.
public struct OutboxTrim: Sendable, Equatable {
    /// Updates dropped (the oldest first).
    public var droppedUpdates: Int
    /// First occurrences dropped (only once no update was left to drop).
    public var droppedCreations: Int

    public init(droppedUpdates: Int = 0, droppedCreations: Int = 0) {
        self.droppedUpdates = droppedUpdates
        self.droppedCreations = droppedCreations
    }

    public var dropped: Int { droppedUpdates + droppedCreations }
}
