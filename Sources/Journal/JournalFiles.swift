#if canImport(Glibc)
import Glibc
#endif

/// Where a journal lives in a state directory, and the file-system set-up around it.
///
/// The database file is created (mode 0600) before SQLite opens it: SQLite gives the `-wal` and
/// `-shm` files it creates the database file's mode, so none of them is ever readable by others.
/// A missing state directory is created with mode 0700; an existing one is left as it is (the
/// package or the administrator owns it).
enum JournalFiles {
    static let databaseName = "agent.db"

    static func databasePath(inStateDirectory directory: String) -> String {
        directory.hasSuffix("/") ? directory + databaseName : directory + "/" + databaseName
    }

    /// Creates the state directory when missing and the database file when missing, and makes
    /// the database files 0600. New directory entries are fsync'ed, so a committed journal does not
    /// vanish with its directory entry on power loss.
    static func prepareForWriting(stateDirectory directory: String, databasePath path: String) throws(JournalError) {
        if mkdir(directory, 0o700) == 0 {
            // mkdir applies the umask; the mode must be exactly 0700.
            guard chmod(directory, 0o700) == 0 else { throw failure(directory, "set the mode of") }
            syncDirectory(parent(of: directory))
        } else if errno != EEXIST {
            throw failure(directory, "create the state directory")
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(path, "create") }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw failure(path, "set the mode of") }
        // Left by an older version or another umask: tighten them too.
        for companion in [path + "-wal", path + "-shm"] {
            if chmod(companion, 0o600) != 0 && errno != ENOENT { throw failure(companion, "set the mode of") }
        }
        guard fsync(descriptor) == 0 else { throw failure(path, "fsync") }
        syncDirectory(directory)
    }

    /// Whether the database file can be opened for reading; throws ``JournalError/notFound(path:)``
    /// when it does not exist.
    static func checkReadable(_ path: String) throws(JournalError) {
        guard access(path, R_OK) == 0 else {
            if errno == ENOENT { throw .notFound(path: path) }
            throw failure(path, "read")
        }
    }

    /// The SQLite URI of a database file (SQLite's URI syntax: `%`, `?` and `#` escaped), opened
    /// read-write without creating (`mode=rw`; ``prepareForWriting(stateDirectory:databasePath:)``
    /// created it) or read-only (`mode=ro`).
    static func uri(path: String, readOnly: Bool) -> String {
        var uri = path.hasPrefix("/") ? "file://" : "file:"
        for character in path.unicodeScalars {
            switch character {
            case "%": uri += "%25"
            case "?": uri += "%3F"
            case "#": uri += "%23"
            default: uri.unicodeScalars.append(character)
            }
        }
        return uri + (readOnly ? "?mode=ro" : "?mode=rw")
    }

    private static func parent(of path: String) -> String {
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

    private static func failure(_ path: String, _ operation: String) -> JournalError {
        .fileSystem(path: path, operation: operation, errno: errno)
    }
}

/// strerror(3) text for an errno value.
func systemMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
