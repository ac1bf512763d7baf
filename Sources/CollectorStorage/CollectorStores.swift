import Logging

/// Opens the collector's store that a `storage.url` setting names.
public enum CollectorStores {
    /// Opens (creating and migrating when needed) the store at `url`:
    ///
    /// - empty: SQLite at `<stateDirectory>/collector.db` (the directory is created 0750 when
    ///   missing, the database files are 0600);
    /// - an absolute path: SQLite in that file;
    /// - `postgres://user:password@host:port/database?sslmode=disable` (or `postgresql://`):
    ///   PostgreSQL; `schema=NAME` puts the tables in that schema (created when missing).
    ///
    /// Anything else, or a location that cannot be opened, throws
    /// ``CollectorStoreError/unusableLocation(_:reason:)`` naming the file or the URL (never its
    /// password) and the reason. Call ``CollectorStore/close()`` when done.
    public static func open(url: String, stateDirectory: String, logger: Logger) async throws -> any CollectorStore {
        switch try StorageLocation(url: url, stateDirectory: stateDirectory) {
        case .sqlite(let path): try await SQLiteCollectorStore.open(path: path, logger: logger)
        case .postgres(let location): try await PostgresCollectorStore.open(location, logger: logger)
        }
    }
}
