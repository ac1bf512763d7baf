import Journal

/// Where the forwarder takes incident changes from, and where it confirms them.
///
/// The contract the forwarder relies on:
/// - ``pendingOutbox(after:limit:)`` returns the changes still waiting, oldest (lowest `seq`) first,
///   only those with a `seq` greater than `after`, at most `limit` of them;
/// - a change stays pending until ``acknowledge(seqs:)`` removes it, so a change the collector has
///   not confirmed is sent again after a failure or a restart (the collector ignores duplicates);
/// - a change the collector refused for good leaves the pending ones through
///   ``deadLetter(seqs:status:reason:)``, which keeps it (never deletes it).
///
/// ``IncidentJournal`` is the outbox of the agent; tests may provide their own.
public protocol ForwardOutbox: Sendable {
    /// The oldest pending changes with a `seq` after `seq`, at most `limit`, in `seq` order.
    func pendingOutbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry]
    /// Removes the changes with these `seq`s (the collector has them); returns how many were removed.
    func acknowledge(seqs: [Int64]) async throws -> Int
    /// Moves the changes with these `seq`s out of the pending ones into a dead-letter store, with
    /// the collector's HTTP `status` and `reason`, in one step; returns how many moved.
    func deadLetter(seqs: [Int64], status: Int, reason: String) async throws -> Int
}

extension IncidentJournal: ForwardOutbox {}
