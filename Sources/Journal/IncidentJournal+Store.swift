import ExecEvents
import RuleEngine
import SQLiteDatabase
import SQLiteNIO

extension IncidentJournal {
    /// Stores one incident change and enqueues it for the forwarder, in one transaction; returns
    /// once the transaction is durable ("stored"), with the change as the journal stored it.
    ///
    /// The journal owns each incident's `version` and `count`, whatever the engine remembered: a
    /// change of an incident it holds is stored as its version + 1 and its count +
    /// ``RuleEngine/IncidentUpdate/countIncrement``, keeping its `firstSeen` (and, when the engine
    /// had forgotten the incident and created it again, its attributes and trigger events). An
    /// incident it does not hold yet is stored at version 1. The incident row, the outbox row and
    /// their JSON all carry the journal's version and count.
    @discardableResult
    public func store(_ update: IncidentUpdate) async throws -> IncidentUpdate {
        let stored = try await store([update])
        return stored[0]
    }

    /// Stores several incident changes, in order, in one transaction (see ``store(_:)-(IncidentUpdate)``);
    /// returns them as stored.
    @discardableResult
    public func store(_ updates: [IncidentUpdate]) async throws -> [IncidentUpdate] {
        try requireWritable()
        guard !updates.isEmpty else { return [] }
        let enqueuedAt = EventTime.now
        return try await exclusively { session in
            try await session.transaction(doing: "store incidents") {
                var stored: [IncidentUpdate] = []
                stored.reserveCapacity(updates.count)
                for update in updates {
                    stored.append(try await session.write(update, enqueuedAt: enqueuedAt))
                }
                return stored
            }
        }
    }
}

extension SQLiteSession {
    /// Writes the change on top of what the journal holds of the incident, and its outbox row.
    /// Runs inside the caller's transaction, so nothing else changes the row in between.
    fileprivate func write(_ update: IncidentUpdate, enqueuedAt: EventTime) async throws -> IncidentUpdate {
        let id = SQLiteData.text(update.incident.incidentId.description)
        let held = try await rows(
            """
            SELECT incidentId, ruleId, hostName, firstSeen, lastSeen, count, version, json FROM incidents
            WHERE incidentId = ?1
            """,
            [id],
            doing: "read incident \(update.incident.incidentId)"
        ).first.map(storedIncident)
        let change = update.stored(after: held)
        let incident = change.incident
        let json = SQLiteData.text(incident.jsonLine)
        try await rows(
            """
            INSERT INTO incidents (incidentId, ruleId, hostName, firstSeen, lastSeen, count, version, json)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (incidentId) DO UPDATE SET
                ruleId = excluded.ruleId, hostName = excluded.hostName, firstSeen = excluded.firstSeen,
                lastSeen = excluded.lastSeen, count = excluded.count, version = excluded.version,
                json = excluded.json
            """,
            [
                id, .text(incident.ruleId), .text(incident.hostName),
                .integer(Int(incident.firstSeen.millisecondsSinceEpoch)),
                .integer(Int(incident.lastSeen.millisecondsSinceEpoch)), .integer(Int(incident.count)),
                .integer(Int(incident.version)), json,
            ],
            doing: "store incident \(incident.incidentId)"
        )
        try await rows(
            "INSERT INTO outbox (incidentId, version, kind, json, enqueuedAt) VALUES (?1, ?2, ?3, ?4, ?5)",
            [
                id, .integer(Int(incident.version)), .text(change.kind.outboxName), json,
                .integer(Int(enqueuedAt.millisecondsSinceEpoch)),
            ],
            doing: "enqueue incident \(incident.incidentId)"
        )
        return change
    }
}

extension IncidentUpdate {
    /// This change as the journal stores it on top of `held`, what it holds of the incident (nil:
    /// nothing yet): see ``IncidentJournal/store(_:)-(IncidentUpdate)``.
    func stored(after held: StoredIncident?) -> IncidentUpdate {
        var incident = self.incident
        guard let held else {
            incident.version = 1
            return IncidentUpdate(kind: .created, incident: incident, countIncrement: countIncrement)
        }
        if kind == .created, let previous = try? held.incident() {
            // The engine forgot the incident and created it again: it is still the incident that
            // first triggered with these events. (A row whose JSON cannot be read back any more is
            // replaced by the engine's view.)
            incident.attributes = previous.attributes
            incident.triggerEvents = previous.triggerEvents
        }
        incident.version = held.version &+ 1
        let (count, overflow) = held.count.addingReportingOverflow(countIncrement)
        incident.count = overflow ? .max : count
        incident.firstSeen = min(held.firstSeen, incident.firstSeen)
        incident.lastSeen = max(held.lastSeen, incident.lastSeen)
        return IncidentUpdate(kind: .updated, incident: incident, countIncrement: countIncrement)
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
