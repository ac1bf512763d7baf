import ExecEvents
import RuleEngine

/// An outbox row the collector refused for good (400, 413, 415 or 422 for its incident alone),
/// kept in the journal's dead-letter table instead of being deleted: what was refused, by which
/// status, why, and when.
public struct DeadLetter: Sendable, Equatable {
    /// The `seq` the row had in the outbox.
    public var seq: Int64
    public var incidentId: IncidentID
    public var ruleId: String
    public var version: Int64
    public var kind: IncidentUpdate.Kind
    /// The incident JSON exactly as it was (to be) sent.
    public var json: String
    /// Wall-clock time the change was stored in the outbox.
    public var enqueuedAt: EventTime
    /// The collector's HTTP status.
    public var status: Int
    /// The collector's reason, as the forwarder logged it ("422 Unprocessable Content: …").
    public var reason: String
    /// Wall-clock time the collector refused it.
    public var refusedAt: EventTime

    public init(
        seq: Int64,
        incidentId: IncidentID,
        ruleId: String,
        version: Int64,
        kind: IncidentUpdate.Kind,
        json: String,
        enqueuedAt: EventTime,
        status: Int,
        reason: String,
        refusedAt: EventTime
    ) {
        self.seq = seq
        self.incidentId = incidentId
        self.ruleId = ruleId
        self.version = version
        self.kind = kind
        self.json = json
        self.enqueuedAt = enqueuedAt
        self.status = status
        self.reason = reason
        self.refusedAt = refusedAt
    }
}
