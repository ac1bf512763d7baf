import ExecEvents
import RuleEngine
import Testing

@testable import CollectorStorage

extension CollectorStoreTests {
    @Test(
        "a version 1 database: its agents stay agents (token lookups still work), its incidents stay",
        arguments: StoreKind.allCases
    )
    func migrationFromVersion1(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            let incident = Sample.received(group: "alice", host: "web-1", from: "web-1")
            try await location.withStore { (store) async throws -> Void in
                _ = try await store.upsert([incident])
            }
            // Back to the credentials of version 1, as a collector before readers left them.
            let version1 = kind == .sqlite ? SQLiteSchema.migrations[0] : PostgresSchema.migrations[0]
            try await location.execute(
                Self.undoMigration3 + ["DROP TABLE credentials"] + version1.filter { $0.contains(" agents ") }
                    + [
                        "DELETE FROM schema_version WHERE version > 1",
                        """
                        INSERT INTO agents (name, token_hash, created_at, revoked_at)
                        VALUES ('web-1', '\(Credential.tokenHash(of: "t1"))', 1000, NULL),
                            ('old-1', '\(Credential.tokenHash(of: "t2"))', 1000, 2000)
                        """,
                    ]
            )
            try await location.withStore { (store) async throws -> Void in
                let web = Credential(
                    name: "web-1",
                    role: .agent,
                    tokenHash: Credential.tokenHash(of: "t1"),
                    createdAt: EventTime(millisecondsSinceEpoch: 1000)
                )
                var old = Credential(
                    name: "old-1",
                    role: .agent,
                    tokenHash: Credential.tokenHash(of: "t2"),
                    createdAt: EventTime(millisecondsSinceEpoch: 1000)
                )
                old.revokedAt = EventTime(millisecondsSinceEpoch: 2000)
                #expect(try await store.credentials() == [old, web])
                #expect(try await store.credential(tokenHash: web.tokenHash) == web)
                #expect(try await store.credential(name: "web-1") == web)
                #expect(try await store.credential(name: "old-1") == nil)
                #expect(try await store.allIncidents() == [CollectedIncident(incident)])
                try await store.addCredential(
                    Credential(name: "ops", role: .reader, tokenHash: Credential.tokenHash(of: "t3"), createdAt: .now)
                )
                #expect(try await store.credential(tokenHash: Credential.tokenHash(of: "t3"))?.role == .reader)
            }
        }
    }

    /// Takes a database back to schema version 2 (the columns and indexes of migration 3 dropped).
    static let undoMigration3 = [
        "DROP INDEX incidents_by_severity",
        "DROP INDEX incidents_by_first_seen",
        "ALTER TABLE incidents DROP COLUMN severity",
        "ALTER TABLE incidents DROP COLUMN rule_author",
        "ALTER TABLE incidents DROP COLUMN rule_source",
        "DELETE FROM schema_version WHERE version > 2",
    ]

    @Test(
        "a version 2 database: its incidents get their severity and sort by it",
        arguments: StoreKind.allCases
    )
    func migrationFromVersion2(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            var low = Sample.incident(group: "low")
            low.severity = 2
            var high = Sample.incident(group: "high", lastSeen: Sample.start)
            high.severity = 9
            // An escaped NUL in the JSON must not stop the migration (PostgreSQL's jsonb refuses it).
            high.attributes.append(IncidentAttribute(name: "note", value: .string("a\u{0}b")))
            try await location.withStore { (store) async throws -> Void in
                _ = try await store.upsert([Sample.received(low), Sample.received(high)])
            }
            try await location.execute(Self.undoMigration3)
            try await location.withStore { (store) async throws -> Void in
                let sorted = try await store.incidents(IncidentQuery(sort: .severity))
                #expect(sorted.incidents.map(\.incident) == [high, low])
                let newest = try await store.incidents(IncidentQuery())
                #expect(newest.incidents.map(\.incident) == [low, high])
            }
        }
    }
}
