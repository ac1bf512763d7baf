import ExecEvents

/// What the agent knows of one process from the program it executed (or from `/proc`): what a
/// child's event says of its parent (`parentProcName`, `parentExePath`, `parentCommandLine`).
public struct KnownProcess: Sendable, Equatable {
    /// Its `procName`: the base name of the program as invoked.
    public var programName: String
    /// The resolved executable.
    public var exePath: String?
    /// Its argv joined by single spaces (as `args` is joined), cut at ``commandLineLimit`` bytes.
    public var commandLine: String?

    /// The most bytes of a command line kept, the limit the eBPF probe puts on argv (256 KiB): a
    /// command line is copied into every child's event, so it is bounded as `args` is.
    public static let commandLineLimit = 256 * 1024

    public init(programName: String, exePath: String? = nil, commandLine: String? = nil) {
        self.programName = programName
        self.exePath = exePath
        self.commandLine = commandLine
    }

    /// `arguments` joined by single spaces, at most ``commandLineLimit`` bytes of them.
    public static func commandLine(_ arguments: [[UInt8]]) -> String {
        let joined = ExecEvent.joinedText(arguments[...])
        guard joined.utf8.count > commandLineLimit else { return joined }
        return String(decoding: joined.utf8.prefix(commandLineLimit), as: UTF8.self)
    }

    /// Approximate bytes held (see ``MemoryFootprint``).
    var footprintBytes: Int {
        MemoryLayout<Self>.stride + programName.footprintBytes + exePath.footprintBytes + commandLine.footprintBytes
            - 3 * MemoryLayout<String>.stride
    }
}
