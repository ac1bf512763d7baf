import Testing

@testable import CollectorStorage

@Suite("Storage location")
struct StorageLocationTests {
    @Test("empty means collector.db in the state directory; a path means that file")
    func sqlite() throws {
        #expect(try StorageLocation(url: "", stateDirectory: "/var/lib/x") == .sqlite(path: "/var/lib/x/collector.db"))
        #expect(try StorageLocation(url: "", stateDirectory: "/var/lib/x/") == .sqlite(path: "/var/lib/x/collector.db"))
        #expect(try StorageLocation(url: "/srv/c.db", stateDirectory: "/var/lib/x") == .sqlite(path: "/srv/c.db"))
    }

    @Test("a postgres URL, percent-decoded, with its parameters")
    func postgres() throws {
        let location = try PostgresLocation(
            url: "postgresql://ex%40ec:p%3Ass@db.example:6543/collector?sslmode=require&schema=c1"
        )
        #expect(location.username == "ex@ec")
        #expect(location.password == "p:ss")
        #expect(location.host == "db.example")
        #expect(location.port == 6543)
        #expect(location.database == "collector")
        #expect(location.tlsMode == .require)
        #expect(location.schema == "c1")
        #expect(location.description == "postgresql://ex%40ec:***@db.example:6543/collector?sslmode=require&schema=c1")

        let defaults = try PostgresLocation(url: "postgres://u@[::1]/db")
        #expect(defaults.host == "::1")
        #expect(defaults.port == 5432)
        #expect(defaults.password == nil)
        #expect(defaults.tlsMode == .prefer)
        #expect(defaults.schema == nil)
    }

    @Test(
        "anything else is refused, by name, without the password",
        arguments: [
            ("mysql://root:secret@localhost/db", "neither an absolute file path"),
            ("collector.db", "neither an absolute file path"),
            ("/var/lib/", "a directory"),
            ("postgres://u:secret@host/db?sslmode=maybe", "sslmode"),
            ("postgres://u:secret@host/db?schema=Robert%27;DROP", "schema"),
            ("postgres://u:secret@host/db?pool=9", "unknown parameter \"pool\""),
            ("postgres://u:secret@host:99999/db", "port"),
            ("postgres://u:secret@host", "no database name"),
            ("postgres://host/db", "no user name"),
            ("postgres://u:secr/et@host/db", "no user name"),
        ]
    )
    func refused(url: String, reason: String) async throws {
        do {
            let store = try await CollectorStores.open(
                url: url,
                stateDirectory: "/nonexistent",
                logger: StoreLocation.logger
            )
            try? await store.close()
            Issue.record("opened \(url)")
        } catch let error as CollectorStoreError {
            guard case .unusableLocation(let named, let why) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(why.contains(reason), "\(error)")
            #expect(!named.contains("secret") && !why.contains("secret"), "\(error)")
            #expect(named.hasPrefix(String(url.prefix(4))), "\(error)")
        }
    }

    @Test("a server that does not answer is named, with the reason")
    func unreachable() async throws {
        let url = "postgres://execwatch:secret@127.0.0.1:1/execwatch_test?sslmode=disable"
        let error = await #expect(throws: CollectorStoreError.self) {
            try await CollectorStores.open(url: url, stateDirectory: "/nonexistent", logger: StoreLocation.logger)
        }
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains("postgres://execwatch:***@127.0.0.1:1/execwatch_test"), "\(text)")
        #expect(text.lowercased().contains("refused"), "\(text)")
        #expect(!text.contains("secret"), "\(text)")
    }
}
