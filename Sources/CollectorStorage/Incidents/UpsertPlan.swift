import RuleEngine

/// What one upsert batch does, given the versions the store holds: an outcome for every incident
/// of the batch, and the rows to write.
///
/// The batch is applied as if one incident after the other, in order: the first version of an
/// incident the store lacks is `created`, a later higher one `updated`, anything else
/// `unchanged`. Only the highest version of each incident (the first of equal ones) is written,
/// and only when it is higher than the stored one.
struct UpsertPlan: Sendable {
    /// One outcome per row of the batch, in order.
    var outcomes: [UpsertOutcome]
    /// The rows to write, at most one per incident, ordered by incident id.
    var writes: [IncidentRow]

    /// - Parameter stored: the stored version of each incident of the batch the store holds.
    init(batch: [IncidentRow], stored: [IncidentID: Int64]) {
        var current = stored
        var winners: [IncidentID: Int] = [:]
        outcomes = []
        outcomes.reserveCapacity(batch.count)
        for (index, row) in batch.enumerated() {
            switch current[row.id] {
            case nil:
                outcomes.append(.created)
            case let version? where row.version > version:
                outcomes.append(.updated)
            default:
                outcomes.append(.unchanged)
                continue
            }
            current[row.id] = row.version
            winners[row.id] = index
        }
        writes = winners.values.map { batch[$0] }.sorted { $0.id < $1.id }
    }

    /// The highest version of each incident of a batch (the first of equal ones), ordered by
    /// incident id: what is written when the store holds none of them.
    static func highestVersions(of batch: [IncidentRow]) -> [IncidentRow] {
        UpsertPlan(batch: batch, stored: [:]).writes
    }
}
