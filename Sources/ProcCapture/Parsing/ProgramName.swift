import ExecEvents

/// The base name of a program as invoked (`procName`), from what /proc shows.
///
/// The kernel keeps only the first 15 bytes of that name in `comm`. When `comm` is shorter it is the
/// whole name; otherwise the full name is the base name of `argv[0]` (as invoked), else of `exe`,
/// else — for a script, whose argv[0] is its interpreter — of `argv[1]`, whichever starts with
/// `comm`; failing all, `comm` itself.
public enum ProgramName {
    /// Bytes of `comm` the kernel keeps (TASK_COMM_LEN - 1).
    static let commLimit = 15

    static func resolve(comm: [UInt8], arguments: ArgumentVector, exe: [UInt8]?) -> [UInt8] {
        guard comm.count >= commLimit else { return comm }
        var candidates: [ArraySlice<UInt8>] = []
        if let first = arguments.first { candidates.append(baseName(first[...])) }
        if let exe { candidates.append(baseName(exe[...])) }
        if arguments.count > 1 { candidates.append(baseName(arguments[1][...])) }
        for candidate in candidates where candidate.starts(with: comm) {
            return Array(candidate)
        }
        return comm
    }

    /// The last path component (`/usr/bin/nc` → `nc`, `dir/` → `dir`); empty for `/` or empty input.
    /// Inlinable, so it is specialized for the caller's collection: unspecialized, every byte
    /// costs calls through the collection's witness table (8% of the eBPF agent's time per exec).
    @inlinable
    public static func baseName<Path: BidirectionalCollection<UInt8>>(_ path: Path) -> Path.SubSequence {
        var end = path.endIndex
        while end > path.startIndex, path[path.index(before: end)] == UInt8(ascii: "/") { path.formIndex(before: &end) }
        var start = end
        while start > path.startIndex, path[path.index(before: start)] != UInt8(ascii: "/") {
            path.formIndex(before: &start)
        }
        return path[start..<end]
    }
}
