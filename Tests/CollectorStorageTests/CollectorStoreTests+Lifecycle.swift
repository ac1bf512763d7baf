import CollectorStorage
import ExecEvents
import Testing

extension CollectorStoreTests {
    @Test("reopening keeps incidents and agents", arguments: StoreKind.allCases)
    func reopen(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            let incidents = (0..<25).map { Sample.received(group: "user\($0)", version: Int64($0 % 3 + 1)) }
            let agent = Credential(
                name: "web-1",
                role: .agent,
                tokenHash: Credential.tokenHash(of: "t"),
                createdAt: Sample.start
            )
            let before = try await location.withStore { store in
                _ = try await store.upsert(incidents)
                try await store.addCredential(agent)
                return try await store.allIncidents()
            }
            try await location.withStore { (store) async throws -> Void in
                #expect(try await store.incidentCount() == 25)
                #expect(try await store.allIncidents() == before)
                #expect(try await store.credentials() == [agent])
                #expect(try await store.upsert(incidents) == Array(repeating: .unchanged, count: 25))
            }
        }
    }

    @Test("a closed store refuses work; closing twice is harmless", arguments: StoreKind.allCases)
    func closed(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            let store = try await location.open()
            try await store.close()
            try await store.close()
            await #expect(throws: CollectorStoreError.self) { try await store.upsert([Sample.received()]) }
        }
    }

    @Test("an unusable location says which and why", arguments: StoreKind.allCases)
    func unusableLocation(kind: StoreKind) async throws {
        try await StoreLocation.with(kind) { location in
            let url: String
            let expectedReason: String
            switch kind {
            case .sqlite:
                // A file where the directory should be.
                url = "/proc/version/collector.db"
                expectedReason = "Not a directory"
            case .postgresql:
                let real = try #require(PostgresURL(location.url))
                url = real.withPassword("wrong-password-1234")
                expectedReason = "password authentication failed"
            }
            do {
                let store = try await CollectorStores.open(
                    url: url,
                    stateDirectory: "/nonexistent",
                    logger: StoreLocation.logger
                )
                try? await store.close()
                Issue.record("opened \(url)")
            } catch let error as CollectorStoreError {
                guard case .unusableLocation(let named, let reason) = error else {
                    Issue.record("unexpected error: \(error)")
                    return
                }
                #expect(reason.contains(expectedReason), "\(error)")
                #expect(!"\(error)".contains("wrong-password-1234"), "\(error)")
                #expect(!"\(error)".contains(PostgresURL(location.url)?.password ?? "\u{0}"), "\(error)")
                #expect(named.hasPrefix(kind == .sqlite ? "/proc/version" : "postgres://"), "\(error)")
            }
        }
    }
}

/// Just enough of a postgres:// URL to swap its password.
private struct PostgresURL {
    var prefix: String
    var password: String
    var rest: String

    init?(_ url: String) {
        guard let scheme = url.firstRange(of: "://"),
            let at = url[scheme.upperBound...].lastIndex(of: "@"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return nil }
        prefix = String(url[..<colon])
        password = String(url[url.index(after: colon)..<at])
        rest = String(url[at...])
    }

    func withPassword(_ password: String) -> String { prefix + ":" + password + rest }
}
