import ExecEvents

/// What the agent knows of one process from the program it executed (or from `/proc`): what a
/// child's event says of its parent (`parentProcName`, `parentExePath`, `parentCommandLine`).
public struct KnownProcess: Sendable, Equatable {
    /// Its `procName`: the base name of the program as invoked.
    public var programName: String
    /// The resolved executable.
    public var exePath: String?
    /// Its argv joined by single spaces (as `args` is joined), cut at ``commandLineLimit`` bytes.
    /// A command line recorded deferred is decoded on each read here; the ``ProcessTable`` decodes
    /// it once, when a child first asks for its parent.
    public var commandLine: String? {
        get {
            switch storedCommandLine {
            case .text(let text): text
            case .deferred(let deferred): deferred.decode()
            }
        }
        set { storedCommandLine = .text(newValue) }
    }

    private enum StoredCommandLine: Sendable {
        case text(String?)
        case deferred(any DeferredCommandLine)
    }

    private var storedCommandLine: StoredCommandLine

    /// The most bytes of a command line kept, the limit the eBPF probe puts on argv (256 KiB): a
    /// command line is copied into every child's event, so it is bounded as `args` is.
    public static let commandLineLimit = 256 * 1024

    public init(programName: String, exePath: String? = nil, commandLine: String? = nil) {
        self.programName = programName
        self.exePath = exePath
        self.storedCommandLine = .text(commandLine)
    }

    /// A process whose command line is decoded only if a child's event asks for it (most processes
    /// have no child in view). One holding more than twice ``commandLineLimit`` bytes is decoded at
    /// once, so an entry never holds much more than its text would.
    public init(programName: String, exePath: String? = nil, deferredCommandLine: some DeferredCommandLine) {
        self.programName = programName
        self.exePath = exePath
        if deferredCommandLine.heldBytes > 2 * Self.commandLineLimit {
            self.storedCommandLine = .text(deferredCommandLine.decode())
        } else {
            self.storedCommandLine = .deferred(deferredCommandLine)
        }
    }

    /// Whether the command line is still held in its source's form.
    public var commandLineIsDeferred: Bool {
        if case .deferred = storedCommandLine { return true }
        return false
    }

    /// Decodes a deferred command line and keeps the text instead.
    mutating func decodeCommandLine() {
        guard case .deferred(let deferred) = storedCommandLine else { return }
        storedCommandLine = .text(deferred.decode())
    }

    public static func == (a: KnownProcess, b: KnownProcess) -> Bool {
        a.programName == b.programName && a.exePath == b.exePath && a.commandLine == b.commandLine
    }

    /// `arguments` joined by single spaces, at most ``commandLineLimit`` bytes of them.
    public static func commandLine(_ arguments: ArgumentVector) -> String {
        commandLine(joined: arguments.joinedText())
    }

    /// A command line already joined, cut at ``commandLineLimit`` bytes.
    public static func commandLine(joined: String) -> String {
        guard joined.utf8.count > commandLineLimit else { return joined }
        return String(decoding: joined.utf8.prefix(commandLineLimit), as: UTF8.self)
    }

    /// Approximate bytes held (see ``MemoryFootprint``): the inline size and each text's heap
    /// bytes, as `String.footprintBytes` counts them. Each text is measured directly: through the
    /// generic `Optional` conformance (not specialized across modules) it cost more than the
    /// process table's insertion, for every exec.
    var footprintBytes: Int {
        let commandLineBytes: Int
        switch storedCommandLine {
        case .text(let text): commandLineBytes = Self.heapBytes(text)
        case .deferred(let deferred): commandLineBytes = deferred.heldBytes
        }
        return MemoryLayout<Self>.stride + Self.heapBytes(programName) + Self.heapBytes(exePath) + commandLineBytes
    }

    /// The heap bytes of a text, beyond its inline size (none when it is nil or short).
    @inline(__always)
    private static func heapBytes(_ text: String?) -> Int {
        guard let text else { return 0 }
        return text.footprintBytes - MemoryLayout<String>.stride
    }
}

/// A command line held in the form its source read it (audit's EXECVE records), turned into text
/// only when asked for: decoding every exec's argv for children that mostly never come costs more
/// than everything else replay does.
public protocol DeferredCommandLine: Sendable {
    /// The argv joined by single spaces, at most ``KnownProcess/commandLineLimit`` bytes (see
    /// ``KnownProcess/commandLine(_:)``); nil when there is no argv.
    func decode() -> String?
    /// Approximate heap bytes held (see ``MemoryFootprint``), or, when more, what the decoded text
    /// may hold: the process table counts this much, so decoding does not take it over its budget.
    var heldBytes: Int { get }
}
