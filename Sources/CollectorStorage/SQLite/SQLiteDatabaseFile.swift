#if canImport(Glibc)
import Glibc
#endif

/// The file-system set-up around a SQLite database file.
///
/// The file is created (mode 0600) before SQLite opens it: SQLite gives the `-wal` and `-shm`
/// files it creates the database file's mode, so none of them is ever readable by others. A
/// missing directory is created with mode 0750; an existing one is left as it is (the package or
/// the administrator owns it).
enum SQLiteDatabaseFile {
    /// Creates the file's directory (one level) and the file when missing, and makes the database
    /// files 0600. New directory entries are fsync'ed, so a committed database does not vanish
    /// with its directory entry on power loss.
    static func prepare(_ path: String) throws(CollectorStoreError) {
        let directory = parent(of: path)
        if mkdir(directory, 0o750) == 0 {
            // mkdir applies the umask; the mode must be exactly 0750.
            guard chmod(directory, 0o750) == 0 else { throw failure(directory, "set the mode of the directory") }
            syncDirectory(parent(of: directory))
        } else if errno != EEXIST {
            throw failure(directory, "create the directory")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(path, "create or open the database file") }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw failure(path, "set the mode of the database file") }
        // Left by an older version or another umask: tighten them too.
        for companion in [path + "-wal", path + "-shm"] {
            if chmod(companion, 0o600) != 0 && errno != ENOENT { throw failure(companion, "set the mode of") }
        }
        guard fsync(descriptor) == 0 else { throw failure(path, "fsync the database file") }
        syncDirectory(directory)
    }

    /// The SQLite URI of a database file (SQLite's URI syntax: `%`, `?` and `#` escaped), opened
    /// read-write without creating it (``prepare(_:)`` did).
    static func uri(path: String) -> String {
        var uri = "file://"
        for character in path.unicodeScalars {
            switch character {
            case "%": uri += "%25"
            case "?": uri += "%3F"
            case "#": uri += "%23"
            default: uri.unicodeScalars.append(character)
            }
        }
        return uri + "?mode=rw"
    }

    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Best effort: a directory that cannot be opened or synced (some file systems refuse) is skipped.
    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func failure(_ path: String, _ operation: String) -> CollectorStoreError {
        let code = errno
        let message = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return .unusableLocation(path, reason: "cannot \(operation): \(message) (errno \(code))")
    }
}
