#if canImport(Glibc)
import Glibc
#endif

/// Where a journal lives in a state directory, and the file-system set-up around it.
///
/// The state directory is opened and checked as ``StateDirectory`` says (no links followed; for
/// writing, owned by a trusted user and not writable by group or others), and the database files
/// are opened through it and checked before SQLite opens them by path. The database file is
/// created (mode 0600) before SQLite opens it: SQLite gives the `-wal` and `-shm` files it creates
/// the database file's mode, so none of them is ever readable by others. A missing state directory
/// is created with mode 0700; an existing one keeps its mode (the package or the administrator
/// owns it).
enum JournalFiles {
    static let databaseName = "agent.db"
    /// The database and the files SQLite keeps beside it in WAL mode.
    static let fileNames = [databaseName, databaseName + "-wal", databaseName + "-shm"]

    static func databasePath(inStateDirectory directory: String) -> String {
        directory.hasSuffix("/") ? directory + databaseName : directory + "/" + databaseName
    }

    /// Opens and checks the state directory (creating it when missing), creates the database file
    /// when missing, and checks the database files and makes them 0600. `trustedOwner` is the
    /// user the agent hands its files to, besides this process's effective user. New directory
    /// entries are fsync'ed, so a committed journal does not vanish with its directory entry on
    /// power loss.
    static func prepareForWriting(stateDirectory path: String, trustedOwner: uid_t?) throws(StateDirectoryError) {
        let directory = try StateDirectory(path: path, access: .writing(trustedOwner: trustedOwner))
        let database = try directory.openFile(databaseName, flags: O_RDWR | O_CREAT, mode: 0o600)
        defer { close(database) }
        try setPrivateMode(database, directory.filePath(databaseName))
        // Left by an older version or another umask: tightened too, after the same checks.
        for companion in fileNames.dropFirst() {
            guard let descriptor = try directory.openFileIfPresent(companion, flags: O_RDONLY | O_NONBLOCK) else {
                continue
            }
            defer { close(descriptor) }
            try setPrivateMode(descriptor, directory.filePath(companion))
        }
        guard fsync(database) == 0 else {
            throw StateDirectoryError(
                path: directory.filePath(databaseName),
                problem: .system(operation: "fsync it", errno: errno)
            )
        }
        directory.sync()
    }

    /// Checks that the database file exists and is a regular file (not a link) in a directory
    /// that is not a link; throws ``JournalError/notFound(path:)`` when there is no journal.
    static func checkReadable(stateDirectory path: String) throws {
        let databasePath = databasePath(inStateDirectory: path)
        do throws(StateDirectoryError) {
            let directory = try StateDirectory(path: path, access: .reading)
            close(try directory.openFile(databaseName, flags: O_RDONLY | O_NONBLOCK))
        } catch  where error.errno == ENOENT {
            throw JournalError.notFound(path: databasePath)
        }
    }

    private static func setPrivateMode(_ descriptor: Int32, _ path: String) throws(StateDirectoryError) {
        guard fchmod(descriptor, 0o600) == 0 else {
            throw StateDirectoryError(path: path, problem: .system(operation: "set its mode", errno: errno))
        }
    }

    /// The SQLite URI of a database file (SQLite's URI syntax: `%`, `?` and `#` escaped), opened
    /// read-write without creating (`mode=rw`; ``prepareForWriting(stateDirectory:trustedOwner:)``
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
}

/// strerror(3) text for an errno value.
func systemMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
