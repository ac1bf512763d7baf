import ExecEvents
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
                ["DROP TABLE credentials"] + version1.filter { $0.contains(" agents ") }
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
}
