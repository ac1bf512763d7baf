import ExecEvents

extension PostgresSchema {
    /// Creates the schema the URL names (when missing) and applies the missing migrations, in one
    /// transaction under ``migrationLock``.
    static func migrate(on connection: LibpqConnection, _ location: PostgresLocation) throws {
        try connection.transaction {
            try connection.execute("SELECT pg_advisory_xact_lock($1::int8)", ["\(migrationLock)"])
            if let schema = location.schema {
                // A plain identifier (checked when the URL was read): nothing to quote.
                try connection.execute("CREATE SCHEMA IF NOT EXISTS \(schema)")
                try connection.execute("SET LOCAL search_path TO \(schema)")
            }
            try connection.execute(versionTable)
            let rows = try connection.execute("SELECT coalesce(max(version), 0)::int8 FROM schema_version")
            let version = Int(try rows.int64(0, 0))
            guard version <= currentVersion else {
                throw CollectorStoreError.unusableLocation(
                    location.description,
                    reason: "schema version \(version) was written by a newer execwatch-collector "
                        + "(this one knows up to \(currentVersion))"
                )
            }
            for next in stride(from: version + 1, through: currentVersion, by: 1) {
                for statement in migrations[next - 1] {
                    try connection.execute(statement)
                }
                try connection.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES ($1::int4, $2::int8)",
                    ["\(next)", "\(EventTime.now.millisecondsSinceEpoch)"]
                )
            }
        }
    }
}
