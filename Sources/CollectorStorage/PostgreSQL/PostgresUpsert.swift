import RuleEngine

/// The statements of one upsert batch (see ``PostgresCollectorStore/upsert(_:)``), run inside the
/// transaction the store opened: insert what is new, lock and read the others, update the lower.
struct PostgresUpsert {
    let batch: [IncidentRow]

    init(_ batch: [IncidentRow]) {
        self.batch = batch
    }

    func run(on connection: LibpqConnection) throws -> [UpsertOutcome] {
        let candidates = UpsertPlan.highestVersions(of: batch)
        let insertedRows = try connection.execute(
            """
            INSERT INTO incidents (incident_id, version, rule_id, host_name, user_name, proc_name,
                severity, rule_author, rule_source, first_seen, last_seen, received_from, received_at, json)
            SELECT i, v, r, h, NULLIF(u, ''), NULLIF(p, ''), s, ra_, rs, f, l, rf, ra, j
            FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::int8[], $8::int8[], $9::text[], $10::int8[], $11::text[],
                $12::int8[], $13::text[], $14::text[])
                AS batch(i, v, r, h, u, p, f, l, rf, ra, j, s, ra_, rs)
            ON CONFLICT (incident_id) DO NOTHING
            RETURNING incident_id
            """,
            Self.columns(candidates)
        )
        var inserted: Set<String> = []
        for row in 0..<insertedRows.count {
            inserted.insert(try insertedRows.text(row, 0))
        }

        let existing = candidates.filter { !inserted.contains($0.idText) }
        let stored = try lockAndReadVersions(of: existing, on: connection)

        let plan = try UpsertPlan(batch: batch, stored: stored)
        let updates = plan.writes.filter { !inserted.contains($0.idText) }
        if !updates.isEmpty {
            try connection.execute(
                """
                UPDATE incidents SET version = batch.v, rule_id = batch.r, host_name = batch.h,
                    user_name = NULLIF(batch.u, ''), proc_name = NULLIF(batch.p, ''), severity = batch.s,
                    rule_author = batch.ra_, rule_source = batch.rs, first_seen = batch.f,
                    last_seen = batch.l, received_from = batch.rf, received_at = batch.ra, json = batch.j
                FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::int8[], $8::int8[], $9::text[], $10::int8[], $11::text[],
                    $12::int8[], $13::text[], $14::text[])
                    AS batch(i, v, r, h, u, p, f, l, rf, ra, j, s, ra_, rs)
                WHERE incidents.incident_id = batch.i AND incidents.version < batch.v
                    AND incidents.host_name = batch.h
                """,
                Self.columns(updates)
            )
        }
        return plan.outcomes
    }

    /// Locks the rows of `existing` (in id order) and reads their versions and hosts.
    private func lockAndReadVersions(
        of existing: [IncidentRow],
        on connection: LibpqConnection
    ) throws -> [IncidentID: StoredIncidentVersion] {
        guard !existing.isEmpty else { return [:] }
        let rows = try connection.execute(
            """
            SELECT incident_id, version, host_name FROM incidents WHERE incident_id = ANY($1::text[])
            ORDER BY incident_id FOR UPDATE
            """,
            [PostgresArrayLiteral.texts(existing.map(\.idText))]
        )
        var stored: [IncidentID: StoredIncidentVersion] = [:]
        for row in 0..<rows.count {
            let text = try rows.text(row, 0)
            guard let id = IncidentID(hex: text) else {
                throw CollectorStoreError.unreadableRow(reason: "incident_id \"\(text)\" is not 32 hex digits")
            }
            stored[id] = StoredIncidentVersion(version: try rows.int64(row, 1), hostName: try rows.text(row, 2))
        }
        // Incidents are never deleted: a conflict in step 1 means the row is there.
        if let missing = existing.first(where: { stored[$0.id] == nil }) {
            throw CollectorStoreError.database(
                operation: "store \(batch.count) incidents",
                reason: "incident \(missing.idText) conflicted on insert but cannot be found"
            )
        }
        return stored
    }

    /// The rows as the 14 array parameters of the statements above, one per column.
    private static func columns(_ rows: [IncidentRow]) -> [String?] {
        [
            PostgresArrayLiteral.texts(rows.map(\.idText)),
            PostgresArrayLiteral.integers(rows.map(\.version)),
            PostgresArrayLiteral.texts(rows.map(\.ruleId)),
            PostgresArrayLiteral.texts(rows.map(\.hostName)),
            PostgresArrayLiteral.texts(rows.map(\.userName)),
            PostgresArrayLiteral.texts(rows.map(\.procName)),
            PostgresArrayLiteral.integers(rows.map(\.firstSeen)),
            PostgresArrayLiteral.integers(rows.map(\.lastSeen)),
            PostgresArrayLiteral.texts(rows.map(\.receivedFrom)),
            PostgresArrayLiteral.integers(rows.map(\.receivedAt)),
            PostgresArrayLiteral.texts(rows.map(\.json)),
            PostgresArrayLiteral.integers(rows.map(\.severity)),
            PostgresArrayLiteral.optionalTexts(rows.map(\.ruleAuthor)),
            PostgresArrayLiteral.optionalTexts(rows.map(\.ruleSource)),
        ]
    }
}
