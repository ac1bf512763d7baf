import CollectorStorage
import ExecEvents
import Testing

extension CollectorStoreTests {
    @Test(
        "agents: add, refuse a second of the same name, list, revoke, look up by token",
        arguments: StoreKind.allCases
    )
    func agents(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            try await location.withStore { store in
                let created = EventTime(millisecondsSinceEpoch: 1_795_000_000_000)
                let web = AgentCredential(
                    name: "web-1",
                    tokenHash: AgentCredential.tokenHash(of: "token-web"),
                    createdAt: created
                )
                let db = AgentCredential(
                    name: "db-1",
                    tokenHash: AgentCredential.tokenHash(of: "token-db"),
                    createdAt: created
                )
                #expect(try await store.agents() == [])
                try await store.addAgent(web)
                try await store.addAgent(db)
                await #expect(throws: CollectorStoreError.agentExists(name: "web-1")) {
                    try await store.addAgent(
                        AgentCredential(
                            name: "web-1",
                            tokenHash: AgentCredential.tokenHash(of: "other"),
                            createdAt: created
                        )
                    )
                }
                #expect(try await store.agents() == [db, web])
                #expect(try await store.agent(tokenHash: web.tokenHash) == web)
                #expect(try await store.agent(tokenHash: AgentCredential.tokenHash(of: "unknown")) == nil)

                let revokedAt = created.adding(seconds: 60)
                #expect(try await store.revokeAgent(name: "web-1", at: revokedAt))
                #expect(try await store.revokeAgent(name: "web-1", at: revokedAt.adding(seconds: 1)) == false)
                #expect(try await store.revokeAgent(name: "nobody", at: revokedAt) == false)
                #expect(try await store.agent(tokenHash: web.tokenHash) == nil)
                var revoked = web
                revoked.revokedAt = revokedAt
                #expect(try await store.agents() == [db, revoked])

                // A revoked agent keeps its name.
                await #expect(throws: CollectorStoreError.agentExists(name: "web-1")) {
                    try await store.addAgent(
                        AgentCredential(
                            name: "web-1",
                            tokenHash: AgentCredential.tokenHash(of: "new"),
                            createdAt: created
                        )
                    )
                }
            }
        }
    }

    @Test("the token hash is SHA-256 in lowercase hex")
    func tokenHash() {
        #expect(
            AgentCredential.tokenHash(of: "abc")
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
    }
}
