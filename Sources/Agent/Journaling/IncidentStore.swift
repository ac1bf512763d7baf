import RuleEngine

/// Where incident changes are kept for good (the journal; a test double in tests).
public protocol IncidentStore: Sendable {
    /// Stores one change durably (and its outbox row) before returning it as stored: the store
    /// owns the incident's version and count (see ``Journal/IncidentJournal``).
    func store(_ update: IncidentUpdate) async throws -> IncidentUpdate
    /// How many changes wait in the outbox for the forwarder.
    func outboxDepth() async throws -> Int
    /// How many changes the collector refused for good are kept (the dead letters).
    func deadLetterCount() async throws -> Int
    /// The latest state of every incident kept, to hand back to the engine after a restart.
    func restorableIncidents() async throws -> [Incident]
    /// Brings the outbox down to at most `maximumDepth` changes, dropping the oldest updates
    /// first and first occurrences last; returns how many were dropped.
    func trimOutbox(toAtMost maximumDepth: Int) async throws -> Int
}
