import RuleEngine

/// What a store holds of an incident that an upsert decides on: its version, and the host it
/// belongs to.
struct StoredIncidentVersion: Sendable, Equatable {
    var version: Int64
    /// The `host_name` column (as ``IncidentRow/hostName`` writes it).
    var hostName: String
}

/// What one upsert batch does, given what the store holds: an outcome for every incident of the
/// batch, and the rows to write.
///
/// The batch is applied as if one incident after the other, in order: the first version of an
/// incident the store lacks is `created`, a later higher one `updated`, anything else
/// `unchanged`. Only the highest version of each incident (the first of equal ones) is written,
/// and only when it is higher than the stored one. An incident belongs to the host that first
/// stored it: a row with the id of another host's incident makes the whole batch refused.
struct UpsertPlan: Sendable {
    /// One outcome per row of the batch, in order.
    var outcomes: [UpsertOutcome]
    /// The rows to write, at most one per incident, ordered by incident id.
    var writes: [IncidentRow]

    /// - Parameter stored: what the store holds of each incident of the batch it has.
    /// - Throws: ``CollectorStoreError/foreignIncident(index:incidentId:storedHostName:)`` for the
    ///   first row whose id belongs to another host.
    init(batch: [IncidentRow], stored: [IncidentID: StoredIncidentVersion]) throws(CollectorStoreError) {
        var current = stored
        var winners: [IncidentID: Int] = [:]
        outcomes = []
        outcomes.reserveCapacity(batch.count)
        for (index, row) in batch.enumerated() {
            switch current[row.id] {
            case nil:
                outcomes.append(.created)
            case let held? where held.hostName != row.hostName:
                throw .foreignIncident(index: index, incidentId: row.id, storedHostName: held.hostName)
            case let held? where row.version > held.version:
                outcomes.append(.updated)
            default:
                outcomes.append(.unchanged)
                continue
            }
            current[row.id] = StoredIncidentVersion(version: row.version, hostName: row.hostName)
            winners[row.id] = index
        }
        writes = winners.values.map { batch[$0] }.sorted { $0.id < $1.id }
    }

    /// The highest version of each incident of a batch (the first of equal ones), ordered by
    /// incident id: what is written when the store holds none of them.
    static func highestVersions(of batch: [IncidentRow]) -> [IncidentRow] {
        var highest: [IncidentID: Int] = [:]
        for (index, row) in batch.enumerated() {
            if let best = highest[row.id], batch[best].version >= row.version { continue }
            highest[row.id] = index
        }
        return highest.values.map { batch[$0] }.sorted { $0.id < $1.id }
    }
}
