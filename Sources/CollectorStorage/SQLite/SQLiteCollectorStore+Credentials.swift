import ExecEvents
import SQLiteDatabase
import SQLiteNIO

extension SQLiteCollectorStore {
    func addCredential(_ credential: Credential) async throws {
        let operation = "add \(credential.role.rawValue) \"\(credential.name)\""
        try await writer.exclusively(doing: operation) { session in
            try await session.transaction(doing: operation) {
                let existing = try await session.value(
                    "SELECT role FROM credentials WHERE name = ?",
                    [.text(credential.name)],
                    doing: operation
                )
                if let role = existing?.string {
                    throw CollectorStoreError.nameTaken(
                        name: credential.name,
                        by: CredentialRole(rawValue: role) ?? .agent
                    )
                }
                if credential.revokedAt == nil {
                    let sharing = try await session.value(
                        "SELECT name FROM credentials WHERE token_hash = ? AND revoked_at IS NULL",
                        [.text(credential.tokenHash)],
                        doing: operation
                    )
                    if let other = sharing?.string {
                        throw CollectorStoreError.database(
                            operation: operation,
                            reason: "\"\(other)\" has the same token"
                        )
                    }
                }
                try await session.rows(
                    "INSERT INTO credentials (name, role, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(credential.name), .text(credential.role.rawValue), .text(credential.tokenHash),
                        .integer(Int(credential.createdAt.millisecondsSinceEpoch)),
                        credential.revokedAt.map { .integer(Int($0.millisecondsSinceEpoch)) } ?? .null,
                    ],
                    doing: operation
                )
            }
        }
    }

    func credentials() async throws -> [Credential] {
        try await reader.exclusively(doing: "list credentials") { session in
            let rows = try await session.rows(
                "SELECT \(Self.credentialColumns) FROM credentials ORDER BY name",
                doing: "list credentials"
            )
            return try rows.map { try session.credential($0) }
        }
    }

    func revokeCredential(name: String, role: CredentialRole, at time: EventTime) async throws -> Bool {
        let operation = "revoke \(role.rawValue) \"\(name)\""
        return try await writer.exclusively(doing: operation) { session in
            let revoked = try await session.rows(
                """
                UPDATE credentials SET revoked_at = ? WHERE name = ? AND role = ? AND revoked_at IS NULL
                RETURNING name
                """,
                [.integer(Int(time.millisecondsSinceEpoch)), .text(name), .text(role.rawValue)],
                doing: operation
            )
            return !revoked.isEmpty
        }
    }

    func credential(tokenHash: String) async throws -> Credential? {
        try await activeCredential(where: "token_hash = ?", .text(tokenHash), doing: "look up a token")
    }

    func credential(name: String) async throws -> Credential? {
        try await activeCredential(where: "name = ?", .text(name), doing: "look up \"\(name)\"")
    }

    private func activeCredential(
        where condition: String,
        _ value: SQLiteData,
        doing operation: String
    ) async throws -> Credential? {
        try await reader.exclusively(doing: operation) { session in
            let rows = try await session.rows(
                "SELECT \(Self.credentialColumns) FROM credentials WHERE \(condition) AND revoked_at IS NULL",
                [value],
                doing: operation
            )
            return try rows.first.map { try session.credential($0) }
        }
    }

    private static let credentialColumns = "name, role, token_hash, created_at, revoked_at"
}

extension SQLiteSession {
    fileprivate func credential(_ row: SQLiteRow) throws -> Credential {
        let roleText = try text(row, "role")
        guard let role = CredentialRole(rawValue: roleText) else {
            throw CollectorStoreError.unreadableRow(
                reason: "SQLite \(path): role \"\(roleText)\" is neither agent nor reader"
            )
        }
        return Credential(
            name: try text(row, "name"),
            role: role,
            tokenHash: try text(row, "token_hash"),
            createdAt: EventTime(millisecondsSinceEpoch: try integer(row, "created_at")),
            revokedAt: try optionalInteger(row, "revoked_at").map { EventTime(millisecondsSinceEpoch: $0) }
        )
    }
}
