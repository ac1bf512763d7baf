import ExecEvents
import RuleEngine
import SQLiteNIO

extension IncidentJournal {
    /// Stores one incident change and enqueues it for the forwarder, in one transaction; returns
    /// once the transaction is durable ("stored").
    ///
    /// The incident row keeps the highest version: when the journal already holds this version of
    /// the incident or a later one, nothing is written and nothing is enqueued (so a retried store
    /// is harmless).
    public func store(_ update: IncidentUpdate) async throws {
        try await store([update])
    }

    /// Stores several incident changes, in order, in one transaction (see ``store(_:)-(IncidentUpdate)``).
    public func store(_ updates: [IncidentUpdate]) async throws {
        try requireWritable()
        guard !updates.isEmpty else { return }
        let enqueuedAt = EventTime.now
        try await exclusively { database in
            try await database.transaction(doing: "store incidents") {
                for update in updates {
                    try await database.write(update, enqueuedAt: enqueuedAt)
                }
            }
        }
    }
}

extension JournalConnection {
    /// Upserts the incident when its version is newer than the stored one and, if it was, adds
    /// the outbox row. Runs inside the caller's transaction.
    fileprivate func write(_ update: IncidentUpdate, enqueuedAt: EventTime) async throws {
        let incident = update.incident
        let id = SQLiteData.text(incident.incidentId.description)
        let version = SQLiteData.integer(Int(incident.version))
        let json = SQLiteData.text(incident.jsonLine)
        let written = try await rows(
            """
            INSERT INTO incidents (incidentId, ruleId, hostName, firstSeen, lastSeen, count, version, json)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (incidentId) DO UPDATE SET
                ruleId = excluded.ruleId, hostName = excluded.hostName, firstSeen = excluded.firstSeen,
                lastSeen = excluded.lastSeen, count = excluded.count, version = excluded.version,
                json = excluded.json
            WHERE excluded.version > incidents.version
            RETURNING version
            """,
            [
                id, .text(incident.ruleId), .text(incident.hostName),
                .integer(Int(incident.firstSeen.millisecondsSinceEpoch)),
                .integer(Int(incident.lastSeen.millisecondsSinceEpoch)), .integer(Int(incident.count)), version, json,
            ],
            doing: "store incident \(incident.incidentId)"
        )
        // No row back: the journal holds this version or a later one already.
        guard !written.isEmpty else { return }
        try await rows(
            "INSERT INTO outbox (incidentId, version, kind, json, enqueuedAt) VALUES (?1, ?2, ?3, ?4, ?5)",
            [id, version, .text(update.kind.outboxName), json, .integer(Int(enqueuedAt.millisecondsSinceEpoch))],
            doing: "enqueue incident \(incident.incidentId)"
        )
    }
}

extension IncidentUpdate.Kind {
    /// The `kind` column of the outbox: `created` or `updated`.
    var outboxName: String {
        switch self {
        case .created: "created"
        case .updated: "updated"
        }
    }

    init?(outboxName: String) {
        switch outboxName {
        case "created": self = .created
        case "updated": self = .updated
        default: return nil
        }
    }
}
