/// One program execution: a `LINUX_PROCESS_EXEC` event with the attributes of DESIGN.md.
///
/// `args` keeps the exact bytes of every argument; the text attributes (`procName`, `swParam`, …)
/// are what rules see, with any invalid UTF-8 shown as U+FFFD.
public struct ExecEvent: Sendable, Equatable {
    public static let execEventType = "LINUX_PROCESS_EXEC"

    public var eventType: String
    public var eventTime: EventTime
    public var hostName: String
    /// Name of the real uid.
    public var user: String?
    /// Base name of the program as invoked.
    public var procName: String?
    /// The arguments after argv[0], joined by single spaces.
    public var swParam: String?
    public var procId: Int64?
    public var parentProcId: Int64?
    public var parentProcName: String?
    /// The parent's resolved executable, from the parent's own exec (or `/proc/<ppid>/exe`).
    public var parentExePath: String?
    /// The parent's argv joined by single spaces, from its own exec (or `/proc/<ppid>/cmdline`).
    public var parentCommandLine: String?
    /// The path given to execve, made absolute against `cwd` when it was relative (`procName` is
    /// its base name); unlike `exePath`, links such as Debian's alternatives are not resolved.
    public var invokedPath: String?
    /// The resolved executable.
    public var exePath: String?
    public var cwd: String?
    public var uid: Int64?
    public var euid: Int64?
    /// The login uid; nil when unset (4294967295).
    public var auid: Int64?
    /// Name of the login uid.
    public var loginUser: String?
    public var tty: String?
    public var auditKey: String?
    /// The exact argv, bytes as the kernel reported them.
    public var args: ArgumentVector?
    /// Attributes outside the known set (from JSON events), by name.
    public var extra: [String: AttributeValue]

    /// Inlinable: called across modules for every exec (with most fields left nil), it stored each
    /// argument through a copy and destroyed the caller's, some two dozen optionals per event.
    @inlinable
    public init(
        eventType: String = ExecEvent.execEventType,
        eventTime: EventTime,
        hostName: String,
        user: String? = nil,
        procName: String? = nil,
        swParam: String? = nil,
        procId: Int64? = nil,
        parentProcId: Int64? = nil,
        parentProcName: String? = nil,
        parentExePath: String? = nil,
        parentCommandLine: String? = nil,
        invokedPath: String? = nil,
        exePath: String? = nil,
        cwd: String? = nil,
        uid: Int64? = nil,
        euid: Int64? = nil,
        auid: Int64? = nil,
        loginUser: String? = nil,
        tty: String? = nil,
        auditKey: String? = nil,
        args: ArgumentVector? = nil,
        extra: [String: AttributeValue] = [:]
    ) {
        self.eventType = eventType
        self.eventTime = eventTime
        self.hostName = hostName
        self.user = user
        self.procName = procName
        self.swParam = swParam
        self.procId = procId
        self.parentProcId = parentProcId
        self.parentProcName = parentProcName
        self.parentExePath = parentExePath
        self.parentCommandLine = parentCommandLine
        self.invokedPath = invokedPath
        self.exePath = exePath
        self.cwd = cwd
        self.uid = uid
        self.euid = euid
        self.auid = auid
        self.loginUser = loginUser
        self.tty = tty
        self.auditKey = auditKey
        self.args = args
        self.extra = extra
    }

    /// The value of an attribute, or nil when the event lacks it.
    /// `eventTime` is given as epoch seconds; `args` as the arguments joined by spaces.
    public func value(of attribute: EventAttribute) -> AttributeValue? {
        switch attribute {
        case .eventType: return .string(eventType)
        case .eventTime: return .integer(eventTime.millisecondsSinceEpoch / 1000)
        case .hostName: return .string(hostName)
        case .user: return user.map(AttributeValue.string)
        case .procName: return procName.map(AttributeValue.string)
        case .swParam: return swParam.map(AttributeValue.string)
        case .procId: return procId.map(AttributeValue.integer)
        case .parentProcId: return parentProcId.map(AttributeValue.integer)
        case .parentProcName: return parentProcName.map(AttributeValue.string)
        case .parentExePath: return parentExePath.map(AttributeValue.string)
        case .parentCommandLine: return parentCommandLine.map(AttributeValue.string)
        case .invokedPath: return invokedPath.map(AttributeValue.string)
        case .exePath: return exePath.map(AttributeValue.string)
        case .cwd: return cwd.map(AttributeValue.string)
        case .uid: return uid.map(AttributeValue.integer)
        case .euid: return euid.map(AttributeValue.integer)
        case .auid: return auid.map(AttributeValue.integer)
        case .loginUser: return loginUser.map(AttributeValue.string)
        case .tty: return tty.map(AttributeValue.string)
        case .auditKey: return auditKey.map(AttributeValue.string)
        case .args: return args.map { .string($0.joinedText()) }
        case .other(let name): return extra[name]
        }
    }
}
