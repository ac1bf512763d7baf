#if canImport(Glibc)
import Glibc
#endif

/// Resolves numeric uids to user names.
public protocol UserNameLookup {
    /// The name of `uid`, or nil when the user database has none.
    mutating func name(forUID uid: Int64) -> String?
}

/// The host's user database (`getpwuid_r`, so NSS sources count), with every answer cached —
/// including "unknown" — so each uid is looked up once. The cache is bounded.
public struct SystemUserDatabase: UserNameLookup {
    private var cache: [Int64: String?] = [:]
    private let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    public mutating func name(forUID uid: Int64) -> String? {
        if let cached = cache[uid] { return cached }
        let resolved = Self.lookUp(uid)
        if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
        cache[uid] = resolved
        return resolved
    }

    private static func lookUp(_ uid: Int64) -> String? {
        guard uid >= 0, uid < Int64(UInt32.max) else { return nil }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid_t(uid), &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }
}

/// A fixed uid → name table, for tests and for logs recorded on another host.
public struct StaticUserTable: UserNameLookup {
    public var names: [Int64: String]
    public init(_ names: [Int64: String]) { self.names = names }
    public func name(forUID uid: Int64) -> String? { names[uid] }
}
