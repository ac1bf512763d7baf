import Logging

/// The collector's store in a PostgreSQL database, which several collectors may share, through
/// libpq (PostgreSQL's C client).
///
/// - **Shared safely**: an incident is one row (its id is the primary key); every upsert locks the
///   rows it changes, so whichever collector stores a version, the highest one stays, and every
///   outcome is exact (see ``upsert(_:)``).
/// - **Schema set up once**: opening connects and migrates in one transaction under an advisory
///   lock, so that an unreachable server, a wrong password or a missing database is reported at
///   once, by name.
/// - **A small pool**: ``PostgresConnectionPool/size`` connections, each used by one operation at
///   a time on a thread of the pool's own; broken connections are reconnected, so a PostgreSQL
///   restart fails only the operations that were running.
final class PostgresCollectorStore: CollectorStore {
    let location: PostgresLocation
    let pool: PostgresConnectionPool
    let logger: Logger

    private init(location: PostgresLocation, pool: PostgresConnectionPool, logger: Logger) {
        self.location = location
        self.pool = pool
        self.logger = logger
    }

    static func open(_ location: PostgresLocation, logger: Logger) async throws -> PostgresCollectorStore {
        let pool = PostgresConnectionPool(location, logger: logger)
        do {
            try await pool.withConnection { connection in
                try PostgresSchema.migrate(on: connection, location)
            }
        } catch {
            await pool.close()
            if let error = error as? CollectorStoreError { throw error }
            throw CollectorStoreError.unusableLocation(location.description, reason: "\(error)")
        }
        logger.info(
            "collector storage opened",
            metadata: ["storage": "postgresql", "url": "\(location.description)"]
        )
        return PostgresCollectorStore(location: location, pool: pool, logger: logger)
    }

    /// Closes the connections once the operations running have ended. Closing twice is harmless.
    func close() async throws {
        await pool.close()
    }

    /// Runs `operation` with a connection of the pool; its failures become
    /// ``CollectorStoreError``s that say what the store was `doing`, on which database, and why.
    @discardableResult
    func run<T: Sendable>(
        doing description: String,
        _ operation: @escaping @Sendable (LibpqConnection) throws -> T
    ) async throws -> T {
        do {
            return try await pool.withConnection(operation)
        } catch let error as CollectorStoreError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch let failure as PostgresFailure {
            throw CollectorStoreError.database(
                operation: description,
                reason: "PostgreSQL \(location): \(failure)",
                cause: failure.cause
            )
        } catch {
            throw CollectorStoreError.database(operation: description, reason: "PostgreSQL \(location): \(error)")
        }
    }
}
