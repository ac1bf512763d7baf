import CollectorStorage
import ExecEvents
import Testing

extension CollectorStoreTests {
    @Test(
        "credentials: agents and readers, names unique across both, list, revoke by role, look up by token and name",
        arguments: StoreKind.allCases
    )
    func credentials(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let created = EventTime(millisecondsSinceEpoch: 1_795_000_000_000)
                func credential(_ name: String, _ role: CredentialRole, _ token: String) -> Credential {
                    Credential(name: name, role: role, tokenHash: Credential.tokenHash(of: token), createdAt: created)
                }
                let web = credential("web-1", .agent, "token-web")
                let db = credential("db-1", .agent, "token-db")
                let ops = credential("ops", .reader, "token-ops")
                #expect(try await store.credentials() == [])
                try await store.addCredential(web)
                try await store.addCredential(db)
                try await store.addCredential(ops)
                await #expect(throws: CollectorStoreError.nameTaken(name: "web-1", by: .agent)) {
                    try await store.addCredential(credential("web-1", .reader, "other"))
                }
                await #expect(throws: CollectorStoreError.nameTaken(name: "ops", by: .reader)) {
                    try await store.addCredential(credential("ops", .agent, "other"))
                }
                #expect(try await store.credentials() == [db, ops, web])
                #expect(try await store.credential(tokenHash: web.tokenHash) == web)
                #expect(try await store.credential(tokenHash: ops.tokenHash) == ops)
                #expect(try await store.credential(tokenHash: Credential.tokenHash(of: "unknown")) == nil)
                #expect(try await store.credential(name: "web-1") == web)
                #expect(try await store.credential(name: "ops") == ops)
                #expect(try await store.credential(name: "nobody") == nil)

                let revokedAt = created.adding(seconds: 60)
                // Revoking names the role: an agent's name does not revoke a reader, and back.
                #expect(try await store.revokeCredential(name: "web-1", role: .reader, at: revokedAt) == false)
                #expect(try await store.revokeCredential(name: "ops", role: .agent, at: revokedAt) == false)
                #expect(try await store.revokeCredential(name: "web-1", role: .agent, at: revokedAt))
                #expect(
                    try await store.revokeCredential(name: "web-1", role: .agent, at: revokedAt.adding(seconds: 1))
                        == false
                )
                #expect(try await store.revokeCredential(name: "nobody", role: .agent, at: revokedAt) == false)
                #expect(try await store.credential(tokenHash: web.tokenHash) == nil)
                #expect(try await store.credential(name: "web-1") == nil)
                #expect(try await store.revokeCredential(name: "ops", role: .reader, at: revokedAt))
                #expect(try await store.credential(tokenHash: ops.tokenHash) == nil)
                var revokedWeb = web
                revokedWeb.revokedAt = revokedAt
                var revokedOps = ops
                revokedOps.revokedAt = revokedAt
                #expect(try await store.credentials() == [db, revokedOps, revokedWeb])

                // A revoked credential keeps its name.
                await #expect(throws: CollectorStoreError.nameTaken(name: "web-1", by: .agent)) {
                    try await store.addCredential(credential("web-1", .agent, "new"))
                }
            }
        }
    }

    @Test("the token hash is SHA-256 in lowercase hex")
    func tokenHash() {
        #expect(
            Credential.tokenHash(of: "abc")
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
    }
}
