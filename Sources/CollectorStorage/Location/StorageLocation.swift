/// Where `storage.url` says the collector's data live.
enum StorageLocation: Equatable {
    /// A SQLite database file (an absolute path).
    case sqlite(path: String)
    case postgres(PostgresLocation)

    static let databaseFileName = "collector.db"

    /// - Parameters:
    ///   - url: empty (the state directory's `collector.db`), an absolute file path, or a
    ///     `postgres://` / `postgresql://` URL.
    ///   - stateDirectory: the collector's state directory.
    init(url: String, stateDirectory: String) throws(CollectorStoreError) {
        if url.isEmpty {
            guard !stateDirectory.isEmpty else {
                throw .unusableLocation("\"\"", reason: "no storage URL and no state directory")
            }
            let directory = stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
            self = .sqlite(path: directory + "/" + Self.databaseFileName)
        } else if url.hasPrefix("/") {
            guard !url.hasSuffix("/") else {
                throw .unusableLocation(url, reason: "a directory, not a database file")
            }
            self = .sqlite(path: url)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: url))
        } else {
            throw .unusableLocation(
                PostgresLocation.redacting(url),
                reason: "neither an absolute file path (SQLite) nor a postgres:// URL"
            )
        }
    }
}
