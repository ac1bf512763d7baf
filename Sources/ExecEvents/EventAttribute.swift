/// The name of an event attribute as FortiSIEM rules spell it (`procName`, `swParam`, …).
///
/// The attributes of `LINUX_PROCESS_EXEC` (DESIGN.md) are cases, so that a rule compiled against
/// them reads a field without hashing a string; any other name is `.other`.
public enum EventAttribute: Hashable, Sendable {
    case eventType, eventTime, hostName, user, procName, swParam
    case procId, parentProcId, parentProcName, parentExePath, parentCommandLine, invokedPath, exePath
    case cwd
    case uid, euid, auid, loginUser, tty, auditKey, args
    case other(String)

    /// The known attributes, in the order they are written in JSON.
    public static let known: [EventAttribute] = [
        .eventType, .eventTime, .hostName, .user, .procName, .swParam, .procId, .parentProcId,
        .parentProcName, .parentExePath, .parentCommandLine, .invokedPath, .exePath, .cwd, .uid,
        .euid, .auid, .loginUser, .tty, .auditKey, .args,
    ]

    private static let byName: [String: EventAttribute] = {
        var table: [String: EventAttribute] = [:]
        for attribute in known { table[attribute.name] = attribute }
        return table
    }()

    public init(name: String) {
        self = Self.byName[name] ?? .other(name)
    }

    public var name: String {
        switch self {
        case .eventType: "eventType"
        case .eventTime: "eventTime"
        case .hostName: "hostName"
        case .user: "user"
        case .procName: "procName"
        case .swParam: "swParam"
        case .procId: "procId"
        case .parentProcId: "parentProcId"
        case .parentProcName: "parentProcName"
        case .parentExePath: "parentExePath"
        case .parentCommandLine: "parentCommandLine"
        case .invokedPath: "invokedPath"
        case .exePath: "exePath"
        case .cwd: "cwd"
        case .uid: "uid"
        case .euid: "euid"
        case .auid: "auid"
        case .loginUser: "loginUser"
        case .tty: "tty"
        case .auditKey: "auditKey"
        case .args: "args"
        case .other(let name): name
        }
    }
}

/// The value of one attribute of an event: text or an integer.
public enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)

    /// The value as text (integers in decimal), as rules compare and group it.
    public var description: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        }
    }
}
