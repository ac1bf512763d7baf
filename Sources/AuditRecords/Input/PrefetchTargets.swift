import CPrefetch

/// Where deriving an exec's event first touches memory, for replay's main thread to prefetch a
/// few execs ahead. The reading thread wrote all of it on its own CPU; the main thread's first
/// touch of each line otherwise stalled on the transfer (a third of the time it spent reading
/// SYSCALL records, in a profile of an exec-dense log).
enum PrefetchTargets {
    /// Addresses per exec, in the order of ``PendingExec/appendPrefetchTargets(to:)``.
    static let perItem = 5

    /// Bytes fetched from each: the object (its reference count, the first, to be written),
    /// the SYSCALL record up to its last fields, PATH item 0's name, the CWD, the arguments' start
    /// (the hardware prefetcher streams on from there).
    private static let bytes = (object: 448, syscall: 768, invokedPath: 128, cwd: 64, execve: 256)

    /// Prefetches from one exec's ``perItem`` addresses (nil ones skipped).
    @inline(__always)
    static func prefetch(_ targets: Slice<UnsafeBufferPointer<UnsafeRawPointer?>>) {
        var i = targets.startIndex
        if let object = targets[i] {
            execwatch_prefetch_for_writing(object)
            fetch(object + 64, bytes.object - 64)
        }
        i += 1
        if let syscall = targets[i] { fetch(syscall, bytes.syscall) }
        i += 1
        if let invokedPath = targets[i] { fetch(invokedPath, bytes.invokedPath) }
        i += 1
        if let cwd = targets[i] { fetch(cwd, bytes.cwd) }
        i += 1
        if let execve = targets[i] { fetch(execve, bytes.execve) }
    }

    @inline(__always)
    private static func fetch(_ start: UnsafeRawPointer, _ count: Int) {
        var offset = 0
        while offset < count {
            execwatch_prefetch_for_reading(start + offset)
            offset &+= 64
        }
    }
}
