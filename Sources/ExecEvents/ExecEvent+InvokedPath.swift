extension ExecEvent {
    /// `invokedPath` of a path given to execve: itself when absolute; when relative, joined to
    /// `cwd` with `.` and empty components dropped and `..` kept as written (lexically: no
    /// symlink is resolved), `./x` in `/cwd` → `/cwd/x`. Nil when relative without a `cwd`, or empty.
    /// Inlinable: specialized for the caller's bytes (once per exec on every source).
    @inlinable
    public static func invokedPath(_ path: some Collection<UInt8>, cwd: String?) -> String? {
        guard let first = path.first else { return nil }
        if first == UInt8(ascii: "/") {
            // Contiguous bytes (the eBPF record, an array) decode at once; the generic way goes
            // byte by byte through the collection (it is not specialized across modules).
            return path.withContiguousStorageIfAvailable { String(decoding: $0, as: UTF8.self) }
                ?? String(decoding: path, as: UTF8.self)
        }
        guard let cwd, cwd.utf8.first == UInt8(ascii: "/") else { return nil }
        var joined = Array(cwd.utf8)
        while joined.count > 1, joined.last == UInt8(ascii: "/") { joined.removeLast() }
        for component in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if component.count == 1, component.first == UInt8(ascii: ".") { continue }
            if joined.last != UInt8(ascii: "/") { joined.append(UInt8(ascii: "/")) }
            joined.append(contentsOf: component)
        }
        return String(decoding: joined, as: UTF8.self)
    }
}
