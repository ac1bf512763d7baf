import ExecEvents
import SQLiteDatabase
import SQLiteNIO

extension SQLiteCollectorStore {
    func addAgent(_ agent: AgentCredential) async throws {
        let operation = "add agent \"\(agent.name)\""
        try await writer.exclusively(doing: operation) { session in
            try await session.transaction(doing: operation) {
                let exists = try await session.value(
                    "SELECT count(*) FROM agents WHERE name = ?",
                    [.text(agent.name)],
                    doing: operation
                )
                guard exists?.integer == 0 else { throw CollectorStoreError.agentExists(name: agent.name) }
                if agent.revokedAt == nil {
                    let sharing = try await session.value(
                        "SELECT name FROM agents WHERE token_hash = ? AND revoked_at IS NULL",
                        [.text(agent.tokenHash)],
                        doing: operation
                    )
                    if let other = sharing?.string {
                        throw CollectorStoreError.database(
                            operation: operation,
                            reason: "agent \"\(other)\" has the same token"
                        )
                    }
                }
                try await session.rows(
                    "INSERT INTO agents (name, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?)",
                    [
                        .text(agent.name), .text(agent.tokenHash),
                        .integer(Int(agent.createdAt.millisecondsSinceEpoch)),
                        agent.revokedAt.map { .integer(Int($0.millisecondsSinceEpoch)) } ?? .null,
                    ],
                    doing: operation
                )
            }
        }
    }

    func agents() async throws -> [AgentCredential] {
        try await reader.exclusively(doing: "list agents") { session in
            let rows = try await session.rows(
                "SELECT name, token_hash, created_at, revoked_at FROM agents ORDER BY name",
                doing: "list agents"
            )
            return try rows.map { try session.agent($0) }
        }
    }

    func revokeAgent(name: String, at time: EventTime) async throws -> Bool {
        let operation = "revoke agent \"\(name)\""
        return try await writer.exclusively(doing: operation) { session in
            let revoked = try await session.rows(
                "UPDATE agents SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING name",
                [.integer(Int(time.millisecondsSinceEpoch)), .text(name)],
                doing: operation
            )
            return !revoked.isEmpty
        }
    }

    func agent(tokenHash: String) async throws -> AgentCredential? {
        try await reader.exclusively(doing: "look up an agent by token") { session in
            let rows = try await session.rows(
                "SELECT name, token_hash, created_at, revoked_at FROM agents WHERE token_hash = ? AND revoked_at IS NULL",
                [.text(tokenHash)],
                doing: "look up an agent by token"
            )
            return try rows.first.map { try session.agent($0) }
        }
    }
}

extension SQLiteSession {
    fileprivate func agent(_ row: SQLiteRow) throws -> AgentCredential {
        AgentCredential(
            name: try text(row, "name"),
            tokenHash: try text(row, "token_hash"),
            createdAt: EventTime(millisecondsSinceEpoch: try integer(row, "created_at")),
            revokedAt: try optionalInteger(row, "revoked_at").map { EventTime(millisecondsSinceEpoch: $0) }
        )
    }
}
