#if canImport(Glibc)
import Glibc
#endif

/// Names of uids from the host's user database, each looked up once: the one user-name cache every
/// source uses (audit, eBPF, /proc).
///
/// Every answer is cached, "unknown" included; when the cache is full it starts over, so its size
/// stays bounded however many uids a host uses. A uid the database does not know is named by its
/// number, as audit names it.
public struct UserNameCache {
    private var names: [UInt32: String?] = [:]
    private let capacity: Int
    private let lookup: @Sendable (UInt32) -> String?

    /// `lookup` defaults to the host's user database (``hostDatabase``).
    public init(capacity: Int = 1024, lookup: @escaping @Sendable (UInt32) -> String? = UserNameCache.hostDatabase) {
        self.capacity = max(1, capacity)
        self.lookup = lookup
    }

    /// A fixed uid → name table, for tests and for logs recorded on another host.
    public init(names fixed: [UInt32: String]) {
        self.init(capacity: max(1, fixed.count)) { fixed[$0] }
    }

    public mutating func name(of uid: UInt32) -> String {
        if let cached = names[uid] { return cached ?? String(uid) }
        let found = lookup(uid)
        if names.count >= capacity { names.removeAll(keepingCapacity: true) }
        names[uid] = found
        return found ?? String(uid)
    }

    /// The name of a uid as audit records carry it (signed, 64 bits): one outside uid_t's range is
    /// named by its number.
    public mutating func name(ofID id: Int64) -> String {
        guard let uid = UInt32(exactly: id) else { return String(id) }
        return name(of: uid)
    }

    /// The host's user database through `getpwuid_r`, so every NSS source counts; nil for a uid it
    /// does not know.
    public static let hostDatabase: @Sendable (UInt32) -> String? = lookUpUserName

    @Sendable private static func lookUpUserName(uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        while true {
            let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            if status == ERANGE, buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard status == 0, result != nil, let name = entry.pw_name else { return nil }
            return String(cString: name)
        }
    }
}
