import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// The records of one audit event (one node and serial) gathered so far, reduced to what an exec
/// event needs. Records are folded in as they arrive, in any order.
struct PendingExec {
    /// The time stamped on every record of this event.
    var time: EventTime

    var hasSyscall = false
    var arch: UInt64?
    var syscall: Int64?
    /// auditd's translation `SYSCALL=execve`, when present.
    var syscallNamedExec = false
    var success: Bool?
    var pid: Int64?
    var ppid: Int64?
    var uid: Int64?
    var euid: Int64?
    var auid: Int64?
    var tty: String?
    var comm: [UInt8]?
    var exe: [UInt8]?
    var key: String?
    /// ENRICHED translations (`UID="alice"`, `AUID="bob"`).
    var uidName: String?
    var auidName: String?

    var hasExecve = false
    var arguments = ExecveArguments()
    var cwd: [UInt8]?
    /// PATH item 0 `name`: the path given to execve.
    var invokedPath: [UInt8]?
    var sawEndOfEvent = false
    /// A SYSCALL record said this is some other syscall: the event is dropped when complete.
    var isOtherSyscall = false

    init(time: EventTime) {
        self.time = time
    }

    /// Whether this event is a program execution (successful or not).
    var isExec: Bool {
        if hasExecve || syscallNamedExec { return true }
        if let arch, let syscall { return ExecSyscalls.isExec(arch: arch, syscall: syscall) }
        return false
    }

    mutating func ingestSyscall(body: UnsafeRawBufferPointer) {
        hasSyscall = true
        var scanner = AuditFieldScanner(body)
        while let field = scanner.next() {
            let k = field.key
            if field.isTranslated {
                if bytesEqual(k, "UID") {
                    uidName = field.text()
                } else if bytesEqual(k, "AUID") {
                    auidName = field.text()
                } else if bytesEqual(k, "SYSCALL") {
                    syscallNamedExec = bytesEqual(field.value, "execve") || bytesEqual(field.value, "execveat")
                }
                continue
            }
            switch k.count {
            case 3:
                if bytesEqual(k, "pid") {
                    pid = field.signedNumber()
                } else if bytesEqual(k, "uid") {
                    uid = field.signedNumber()
                } else if bytesEqual(k, "tty") {
                    tty = field.text()
                } else if bytesEqual(k, "exe") {
                    exe = field.untrustedBytes()
                } else if bytesEqual(k, "key") {
                    key = field.untrustedText().map(Self.firstKey)
                }
            case 4:
                if bytesEqual(k, "arch") {
                    arch = parseHexNumber(field.value)
                } else if bytesEqual(k, "ppid") {
                    ppid = field.signedNumber()
                } else if bytesEqual(k, "euid") {
                    euid = field.signedNumber()
                } else if bytesEqual(k, "auid") {
                    auid = field.signedNumber()
                } else if bytesEqual(k, "comm") {
                    comm = field.untrustedBytes()
                }
            case 7:
                if bytesEqual(k, "syscall") {
                    if let number = field.signedNumber() {
                        syscall = number
                    } else {
                        // `ausearch -i` writes the name instead of the number.
                        syscallNamedExec = bytesEqual(field.value, "execve") || bytesEqual(field.value, "execveat")
                    }
                } else if bytesEqual(k, "success") {
                    success = bytesEqual(field.value, "yes")
                }
            default:
                continue
            }
        }
        if let arch, let syscall, !ExecSyscalls.isExec(arch: arch, syscall: syscall), !syscallNamedExec {
            isOtherSyscall = true
        }
    }

    /// Several keys are joined by 0x01 in one field; the first names the rule.
    private static func firstKey(_ text: String) -> String {
        guard let separator = text.firstIndex(of: "\u{01}") else { return text }
        return String(text[..<separator])
    }

    mutating func ingestExecve(body: UnsafeRawBufferPointer) {
        hasExecve = true
        arguments.ingest(body: body)
    }

    mutating func ingestCwd(body: UnsafeRawBufferPointer) {
        var scanner = AuditFieldScanner(body)
        while let field = scanner.next(), !field.isTranslated {
            if bytesEqual(field.key, "cwd") {
                cwd = field.untrustedBytes()
                return
            }
        }
    }

    mutating func ingestPath(body: UnsafeRawBufferPointer) {
        var scanner = AuditFieldScanner(body)
        var isItemZero = false
        var name: [UInt8]?
        while let field = scanner.next(), !field.isTranslated {
            if bytesEqual(field.key, "item") {
                isItemZero = bytesEqual(field.value, "0")
                if !isItemZero { return }
            } else if bytesEqual(field.key, "name") {
                name = field.untrustedBytes()
            }
        }
        if isItemZero, let name { invokedPath = name }
    }
}
