import ExecEvents

extension PostgresCollectorStore {
    func addAgent(_ agent: AgentCredential) async throws {
        let operation = "add agent \"\(agent.name)\""
        let added = try await run(doing: operation) { connection in
            do {
                return try connection.transaction {
                    try connection.execute(
                        """
                        INSERT INTO agents (name, token_hash, created_at, revoked_at)
                        VALUES ($1, $2, $3::int8, $4::int8)
                        ON CONFLICT (name) DO NOTHING
                        RETURNING name
                        """,
                        [
                            agent.name, agent.tokenHash, "\(agent.createdAt.millisecondsSinceEpoch)",
                            agent.revokedAt.map { "\($0.millisecondsSinceEpoch)" },
                        ]
                    ).count > 0
                }
            } catch let failure as PostgresFailure where failure.sqlState == "23505" {
                // The only other unique index: agents_by_token.
                throw CollectorStoreError.database(operation: operation, reason: "another agent has the same token")
            }
        }
        guard added else { throw CollectorStoreError.agentExists(name: agent.name) }
    }

    func agents() async throws -> [AgentCredential] {
        try await run(doing: "list agents") { connection in
            try Self.agents(
                connection.read("SELECT name, token_hash, created_at, revoked_at FROM agents ORDER BY name")
            )
        }
    }

    func revokeAgent(name: String, at time: EventTime) async throws -> Bool {
        try await run(doing: "revoke agent \"\(name)\"") { connection in
            try connection.transaction {
                try connection.execute(
                    """
                    UPDATE agents SET revoked_at = $1::int8
                    WHERE name = $2 AND revoked_at IS NULL RETURNING name
                    """,
                    ["\(time.millisecondsSinceEpoch)", name]
                ).count > 0
            }
        }
    }

    func agent(tokenHash: String) async throws -> AgentCredential? {
        try await run(doing: "look up an agent by token") { connection in
            try Self.agents(
                connection.read(
                    """
                    SELECT name, token_hash, created_at, revoked_at FROM agents
                    WHERE token_hash = $1 AND revoked_at IS NULL
                    """,
                    [tokenHash]
                )
            ).first
        }
    }

    /// Rows of (name, token_hash, created_at, revoked_at).
    private static func agents(_ rows: PostgresRows) throws -> [AgentCredential] {
        try (0..<rows.count).map { row in
            AgentCredential(
                name: try rows.text(row, 0),
                tokenHash: try rows.text(row, 1),
                createdAt: EventTime(millisecondsSinceEpoch: try rows.int64(row, 2)),
                revokedAt: try rows.optionalInt64(row, 3).map { EventTime(millisecondsSinceEpoch: $0) }
            )
        }
    }
}
