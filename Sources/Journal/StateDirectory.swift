#if canImport(Glibc)
import Glibc
#endif

/// The agent's state directory, opened so that a process running as root never follows a link
/// planted in it, nor writes to a file that someone else could have put there.
///
/// What it promises:
/// - The directory is not a symbolic link (`O_DIRECTORY|O_NOFOLLOW`). Opened for writing, it is
///   owned by this process's effective user or by the one other trusted owner (the `user:` account
///   the agent hands its files to), and group and others cannot write to it (`fstat`). A missing
///   one is created with mode 0700.
/// - Every file in it is opened relative to the directory (`openat`) without following a link, and
///   must be a regular file; opened for writing, it must also have a trusted owner and a single link
///   (a hard link to a file elsewhere is refused). Ownership is changed on the open file (`fchown`).
///
/// Once the directory is proven so, only a trusted owner can add, remove or swap its entries, so
/// opening a checked file by its path afterwards (SQLite does) reaches the file checked here.
/// Opened ``Access/reading`` (`execwatch incidents`), owner and mode are not checked (reading is
/// allowed where the agent's user keeps its files), but no link is followed either.
public final class StateDirectory: Sendable {
    /// How the directory is used.
    public enum Access: Sendable, Equatable {
        /// The agent: created when missing; owner and mode checked.
        case writing(trustedOwner: uid_t?)
        /// Tools that only read: never created; owner and mode not checked.
        case reading
    }

    /// The directory as configured.
    public let path: String
    public let access: Access
    /// The descriptor of the directory, open until this value is released.
    let descriptor: Int32

    /// Opens (for ``Access/writing(trustedOwner:)``, creating when missing) and checks the directory.
    public init(path: String, access: Access) throws(StateDirectoryError) {
        self.path = path
        self.access = access
        var created = false
        if case .writing = access {
            if mkdir(path, 0o700) == 0 {
                created = true
            } else if errno != EEXIST {
                throw StateDirectoryError(path: path, problem: .system(operation: "create it", errno: errno))
            }
        }
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ELOOP: throw StateDirectoryError(path: path, problem: .symbolicLink)
            case ENOTDIR:
                // O_DIRECTORY is checked on the link itself: tell a link from another file.
                var info = stat()
                let isLink = lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
                throw StateDirectoryError(path: path, problem: isLink ? .symbolicLink : .notADirectory)
            default: throw StateDirectoryError(path: path, problem: .system(operation: "open it", errno: code))
            }
        }
        self.descriptor = descriptor
        if created {
            // mkdir applies the umask; the mode must be exactly 0700. The new entry is made durable.
            guard fchmod(descriptor, 0o700) == 0 else {
                throw StateDirectoryError(path: path, problem: .system(operation: "set its mode", errno: errno))
            }
            Self.syncDirectory(atPath: Self.parent(of: path))
        }
        guard case .writing = access else { return }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw StateDirectoryError(path: path, problem: .system(operation: "stat it", errno: errno))
        }
        guard isTrusted(info.st_uid) else {
            throw StateDirectoryError(path: path, problem: .foreignOwner(uid: info.st_uid, trusted: trustedOwners))
        }
        guard info.st_mode & 0o022 == 0 else {
            throw StateDirectoryError(path: path, problem: .writableByOthers(mode: info.st_mode & 0o7777))
        }
    }

    deinit { close(descriptor) }

    /// The users whose files are trusted: this process's effective user, and the trusted owner.
    public var trustedOwners: [uid_t] {
        var owners = [geteuid()]
        if case .writing(let owner?) = access, owner != owners[0] { owners.append(owner) }
        return owners
    }

    /// The path of a file in the directory, for messages and for SQLite.
    public func filePath(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Opens file `name` of the directory without following a link (`flags` as open(2); with
    /// `O_CREAT` it is created with `mode`) and checks it. Returns the descriptor; the caller closes it.
    public func openFile(_ name: String, flags: Int32, mode: mode_t = 0o600) throws(StateDirectoryError) -> Int32 {
        guard let descriptor = try openFileIfPresent(name, flags: flags, mode: mode) else {
            throw StateDirectoryError(path: filePath(name), problem: .system(operation: "open it", errno: ENOENT))
        }
        return descriptor
    }

    /// As ``openFile(_:flags:mode:)``, but nil when the file does not exist (and `O_CREAT` is not given).
    public func openFileIfPresent(
        _ name: String,
        flags: Int32,
        mode: mode_t = 0o600
    ) throws(StateDirectoryError) -> Int32? {
        let file = filePath(name)
        let descriptor = openat(self.descriptor, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw StateDirectoryError(
                path: file,
                problem: code == ELOOP ? .symbolicLink : .system(operation: "open it", errno: code)
            )
        }
        do throws(StateDirectoryError) {
            try check(descriptor, file: file)
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// Gives the directory and those of `names` that exist to `uid`:`gid`, each checked as
    /// ``openFile(_:flags:mode:)`` checks and changed through its descriptor (`fchown`).
    public func handOver(_ names: [String], toUID uid: uid_t, gid: gid_t) throws(StateDirectoryError) {
        guard fchown(descriptor, uid, gid) == 0 else {
            throw StateDirectoryError(path: path, problem: .system(operation: "change its owner", errno: errno))
        }
        for name in names {
            guard let file = try openFileIfPresent(name, flags: O_RDONLY | O_NONBLOCK) else { continue }
            defer { close(file) }
            guard fchown(file, uid, gid) == 0 else {
                throw StateDirectoryError(
                    path: filePath(name),
                    problem: .system(operation: "change its owner", errno: errno)
                )
            }
        }
    }

    /// Makes new entries of the directory durable. Best effort: some file systems refuse.
    public func sync() {
        _ = fsync(descriptor)
    }

    private func isTrusted(_ uid: uid_t) -> Bool { trustedOwners.contains(uid) }

    private func check(_ descriptor: Int32, file: String) throws(StateDirectoryError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw StateDirectoryError(path: file, problem: .system(operation: "stat it", errno: errno))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw StateDirectoryError(path: file, problem: .notARegularFile) }
        guard case .writing = access else { return }
        guard isTrusted(info.st_uid) else {
            throw StateDirectoryError(path: file, problem: .foreignOwner(uid: info.st_uid, trusted: trustedOwners))
        }
        guard info.st_nlink == 1 else {
            throw StateDirectoryError(path: file, problem: .hardLinked(links: UInt64(info.st_nlink)))
        }
    }

    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Best effort: a directory that cannot be opened or synced (some file systems refuse) is skipped.
    static func syncDirectory(atPath path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}

/// Why the state directory or a file in it is refused; names the path and says what to do.
public struct StateDirectoryError: Error, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case symbolicLink
        case notADirectory
        case notARegularFile
        /// Owned by `uid`, which is none of the `trusted` users.
        case foreignOwner(uid: uid_t, trusted: [uid_t])
        /// A directory that group or others may write to (mode bits).
        case writableByOthers(mode: mode_t)
        /// A file with more than one name: it may be a file from elsewhere.
        case hardLinked(links: UInt64)
        /// A system call failed.
        case system(operation: String, errno: Int32)
    }

    /// The directory or file.
    public var path: String
    public var problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// The errno of a failed system call, nil for a refusal.
    public var errno: Int32? {
        if case .system(_, let code) = problem { return code }
        return nil
    }

    public var description: String {
        switch problem {
        case .symbolicLink:
            "\(path): is a symbolic link; refusing to follow it (the state directory and its files must not be links)"
        case .notADirectory:
            "\(path): the state directory is not a directory"
        case .notARegularFile:
            "\(path): not a regular file; refusing to use it"
        case .foreignOwner(let uid, let trusted):
            "\(path): owned by \(Self.userName(uid)), not by \(trusted.map(Self.userName).joined(separator: " or ")); "
                + "refusing a state directory or file another user controls (chown it, or choose another stateDir)"
        case .writableByOthers(let mode):
            "\(path): the state directory is writable by group or others (mode 0\(String(mode, radix: 8))); "
                + "refusing it, since they could swap its files (chmod go-w it, or choose another stateDir)"
        case .hardLinked(let links):
            "\(path): has \(links) hard links; refusing a state file that may be another file too"
        case .system(let operation, let code):
            "\(path): cannot \(operation): \(systemMessage(code)) (errno \(code))"
        }
    }

    /// `alice (uid 1000)`, or `uid 1000` when the user database does not know it.
    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }
}
