import ExecEvents

/// The Sigma fields of `process_creation` on Linux (Sysmon for Linux names, as the taxonomy
/// appendix gives them) and the event attributes each one reads.
enum SigmaField {
    static let attributes: [String: [EventAttribute]] = [
        // The path as invoked or the resolved executable: `nc` run through Debian's alternatives
        // link is /usr/bin/nc as invoked and /usr/bin/nc.openbsd resolved; either may match.
        "Image": [.invokedPath, .exePath],
        "CommandLine": [.args],
        "ParentImage": [.parentExePath],
        "ParentCommandLine": [.parentCommandLine],
        "User": [.user],
        "CurrentDirectory": [.cwd],
        "LogonId": [.auid],
        "ProcessId": [.procId],
        "ParentProcessId": [.parentProcId],
    ]

    /// What keywords (values without a field) are searched in: every text field of the event.
    static let keywordAttributes: [EventAttribute] = [
        .args, .invokedPath, .exePath, .parentExePath, .parentCommandLine, .cwd, .user,
    ]

    /// Fields of the taxonomy that execwatch's events never carry, with the reason.
    static let unavailable: [String: String] = [
        "OriginalFileName": "Linux executables carry no PE version resource",
        "Product": "Linux executables carry no PE version resource",
        "Company": "Linux executables carry no PE version resource",
        "Description": "Linux executables carry no PE version resource",
        "FileVersion": "Linux executables carry no PE version resource",
        "Hashes": "execwatch does not hash executables",
        "IntegrityLevel": "Linux has no Windows integrity levels",
        "ProcessGuid": "execwatch events carry no process GUID",
        "ParentProcessGuid": "execwatch events carry no process GUID",
        "ParentUser": "execwatch events carry no parent user",
        "LogonGuid": "execwatch events carry no logon GUID",
        "TerminalSessionId": "execwatch events carry no terminal session id",
    ]
}
