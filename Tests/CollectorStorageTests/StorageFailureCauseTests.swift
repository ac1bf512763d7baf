import Testing

@testable import CollectorStorage

@Suite("What kind of store failure")
struct StorageFailureCauseTests {
    @Test("PostgreSQL: a broken connection is unreachable, disk_full is full, the rest other")
    func postgres() {
        #expect(PostgresFailure(message: "Connection refused", connectionBroke: true).cause == .unreachable)
        #expect(
            PostgresFailure(message: "could not extend file", sqlState: "53100", connectionBroke: false).cause == .full
        )
        #expect(PostgresFailure(message: "duplicate key", sqlState: "23505", connectionBroke: false).cause == .other)
        #expect(PostgresFailure.closed.cause == .other)
    }

    @Test("any error: the store's own cause, else other")
    func anyError() {
        struct Unrelated: Error {}
        let full = CollectorStoreError.database(operation: "store", reason: "disk", cause: .full)
        #expect(StorageFailureCause(of: full) == .full)
        #expect(StorageFailureCause(of: CollectorStoreError.database(operation: "store", reason: "x")) == .other)
        #expect(StorageFailureCause(of: Unrelated()) == .other)
    }
}
