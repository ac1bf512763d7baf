import ExecEvents

extension PostgresCollectorStore {
    func addCredential(_ credential: Credential) async throws {
        let operation = "add \(credential.role.rawValue) \"\(credential.name)\""
        let takenBy = try await run(doing: operation) { connection -> CredentialRole? in
            do {
                return try connection.transaction {
                    let added = try connection.execute(
                        """
                        INSERT INTO credentials (name, role, token_hash, created_at, revoked_at)
                        VALUES ($1, $2, $3, $4::int8, $5::int8)
                        ON CONFLICT (name) DO NOTHING
                        RETURNING name
                        """,
                        [
                            credential.name, credential.role.rawValue, credential.tokenHash,
                            "\(credential.createdAt.millisecondsSinceEpoch)",
                            credential.revokedAt.map { "\($0.millisecondsSinceEpoch)" },
                        ]
                    )
                    guard added.count == 0 else { return nil }
                    let existing = try connection.execute(
                        "SELECT role FROM credentials WHERE name = $1",
                        [credential.name]
                    )
                    return existing.count > 0 ? CredentialRole(rawValue: try existing.text(0, 0)) ?? .agent : .agent
                }
            } catch let failure as PostgresFailure where failure.sqlState == "23505" {
                // The only other unique index: agents_by_token.
                throw CollectorStoreError.database(
                    operation: operation,
                    reason: "another credential has the same token"
                )
            }
        }
        if let takenBy { throw CollectorStoreError.nameTaken(name: credential.name, by: takenBy) }
    }

    func credentials() async throws -> [Credential] {
        try await run(doing: "list credentials") { connection in
            try Self.credentials(
                connection.read("SELECT \(Self.credentialColumns) FROM credentials ORDER BY name")
            )
        }
    }

    func revokeCredential(name: String, role: CredentialRole, at time: EventTime) async throws -> Bool {
        try await run(doing: "revoke \(role.rawValue) \"\(name)\"") { connection in
            try connection.transaction {
                try connection.execute(
                    """
                    UPDATE credentials SET revoked_at = $1::int8
                    WHERE name = $2 AND role = $3 AND revoked_at IS NULL RETURNING name
                    """,
                    ["\(time.millisecondsSinceEpoch)", name, role.rawValue]
                ).count > 0
            }
        }
    }

    func credential(tokenHash: String) async throws -> Credential? {
        try await activeCredential(where: "token_hash = $1", tokenHash, doing: "look up a token")
    }

    func credential(name: String) async throws -> Credential? {
        try await activeCredential(where: "name = $1", name, doing: "look up \"\(name)\"")
    }

    private func activeCredential(
        where condition: String,
        _ value: String,
        doing operation: String
    ) async throws -> Credential? {
        let sql = "SELECT \(Self.credentialColumns) FROM credentials WHERE \(condition) AND revoked_at IS NULL"
        return try await run(doing: operation) { connection in
            try Self.credentials(connection.read(sql, [value])).first
        }
    }

    private static let credentialColumns = "name, role, token_hash, created_at, revoked_at"

    /// Rows of ``credentialColumns``.
    private static func credentials(_ rows: PostgresRows) throws -> [Credential] {
        try (0..<rows.count).map { row in
            let roleText = try rows.text(row, 1)
            guard let role = CredentialRole(rawValue: roleText) else {
                throw CollectorStoreError.unreadableRow(reason: "role \"\(roleText)\" is neither agent nor reader")
            }
            return Credential(
                name: try rows.text(row, 0),
                role: role,
                tokenHash: try rows.text(row, 2),
                createdAt: EventTime(millisecondsSinceEpoch: try rows.int64(row, 3)),
                revokedAt: try rows.optionalInt64(row, 4).map { EventTime(millisecondsSinceEpoch: $0) }
            )
        }
    }
}
