/// What one scan of /proc learns about a process from its `stat` alone.
struct ScannedProcess: Equatable {
    var pid: Int32
    var parentPID: Int32
    /// With the pid, names the process: a reused pid has another start time.
    var startTime: UInt64
    /// The memory image exec set up: `startcode` and `startstack` change with every exec (the
    /// stack is placed at random), and not when a process merely renames itself.
    var image: ProgramImage
    var isKernelThread: Bool
}

/// Where exec placed a program's code and stack; `none` when the process has no memory (a
/// kernel thread, or a process that is exiting).
struct ProgramImage: Hashable {
    var startCode: UInt64
    var startStack: UInt64

    static let none = ProgramImage(startCode: 0, startStack: 0)
}
