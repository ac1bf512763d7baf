extension PostgresCollectorStore {
    /// Drops the schema the URL named (`schema=`) with everything in it, then closes the store.
    /// For tests, which each work in a schema of their own; the collector never calls it.
    func dropSchemaAndClose() async throws {
        var dropFailure: (any Error)?
        if let schema = location.schema {
            do {
                // A plain identifier (checked when the URL was read): nothing to quote.
                try await run(doing: "drop schema \(schema)") { connection in
                    try connection.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
                }
            } catch {
                dropFailure = error
            }
        }
        try await close()
        if let dropFailure { throw dropFailure }
    }
}
