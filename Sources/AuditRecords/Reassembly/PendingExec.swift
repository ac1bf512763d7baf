import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// The records of one audit event (one node and serial) gathered so far. Records are kept as they
/// came, in any order; only what decides whether the event is an exec (arch, syscall, success) is
/// read when they arrive. The rest is read when asked for: most events match no rule, and for
/// them only ``identity`` is ever needed.
///
/// A class: the assembler's table holds one reference per open event, so folding a record in
/// never copies the event; once completed, only its lazily read parts change.
final class PendingExec {
    /// The time stamped on every record of this event.
    let time: EventTime
    private let borrowsRecordBytes: Bool

    // Read on arrival: is this an exec, and did it succeed?
    private(set) var hasSyscall = false
    private(set) var arch: UInt64?
    private(set) var syscall: Int64?
    /// auditd's translation `SYSCALL=execve` (or `ausearch -i`'s `syscall=execve`).
    private(set) var syscallNamedExec = false
    private(set) var success: Bool?
    /// A SYSCALL record said this is some other syscall: the event is dropped when complete.
    private(set) var isOtherSyscall = false
    private(set) var hasExecve: Bool = false

    // Kept as they came.
    private var syscallRecord: RecordBody? {
        didSet { heldBytes += syscallRecord.heldBytes - oldValue.heldBytes }
    }
    private var cwdRecord: RecordBody? {
        didSet { heldBytes += cwdRecord.heldBytes - oldValue.heldBytes }
    }
    /// PATH item 0: the path given to execve.
    private var invokedPathRecord: RecordBody? {
        didSet { heldBytes += invokedPathRecord.heldBytes - oldValue.heldBytes }
    }
    private(set) var execveRecords: [RecordBody] = []

    /// Approximate bytes this event holds: the object, and the records it copied (borrowed ones
    /// cost their reference only). Kept up to date as records arrive.
    private(set) var heldBytes = PendingExec.objectBytes
    /// The object with its inline fields, and its share of the assembler's tables (a slot in the
    /// open-event dictionary, an entry in the opening order).
    static let objectBytes = HeapAllocation.bytes(holding: 160) + 64

    init(time: EventTime, borrowsRecordBytes: Bool = false) {
        self.time = time
        self.borrowsRecordBytes = borrowsRecordBytes
    }

    /// Whether this event is a program execution (successful or not).
    var isExec: Bool {
        if hasExecve || syscallNamedExec { return true }
        if let arch, let syscall { return ExecSyscalls.isExec(arch: arch, syscall: syscall) }
        return false
    }

    // MARK: - Records arriving

    func ingestSyscall(body: UnsafeRawBufferPointer) {
        hasSyscall = true
        syscallRecord = RecordBody(body, borrow: borrowsRecordBytes)
        var scanner = AuditFieldScanner(body)
        // arch, syscall and success lead the record; the translation is needed only when the
        // number alone cannot tell (an arch this table does not know, or a named syscall).
        while let field = scanner.next() {
            let k = field.key
            if field.isTranslated {
                if bytesEqual(k, "SYSCALL") { syscallNamedExec = Self.namesExec(field.value) }
                continue
            }
            if bytesEqual(k, "arch") {
                arch = parseHexNumber(field.value)
            } else if bytesEqual(k, "syscall") {
                if let number = field.signedNumber() {
                    syscall = number
                } else {
                    syscallNamedExec = Self.namesExec(field.value)  // `ausearch -i` writes the name
                }
            } else if bytesEqual(k, "success") {
                success = bytesEqual(field.value, "yes")
            }
            if let arch, syscall != nil, success != nil, ExecSyscalls.knows(arch: arch) { break }
        }
        if let arch, let syscall, !ExecSyscalls.isExec(arch: arch, syscall: syscall), !syscallNamedExec {
            isOtherSyscall = true
        }
    }

    private static func namesExec(_ value: UnsafeRawBufferPointer) -> Bool {
        bytesEqual(value, "execve") || bytesEqual(value, "execveat")
    }

    func ingestExecve(body: UnsafeRawBufferPointer) {
        hasExecve = true
        let record = RecordBody(body, borrow: borrowsRecordBytes)
        let capacity = execveRecords.capacity
        execveRecords.append(record)
        heldBytes += record.heldBytes + (execveRecords.capacity - capacity) * MemoryLayout<RecordBody>.stride
        if capacity == 0 { heldBytes += HeapAllocation.overhead }
    }

    func ingestCwd(body: UnsafeRawBufferPointer) {
        cwdRecord = RecordBody(body, borrow: borrowsRecordBytes)
    }

    func ingestPath(body: UnsafeRawBufferPointer) {
        // `item=N` leads the record; only item 0 is kept.
        var scanner = AuditFieldScanner(body)
        while let field = scanner.next(), !field.isTranslated {
            if bytesEqual(field.key, "item") {
                if bytesEqual(field.value, "0") { invokedPathRecord = RecordBody(body, borrow: borrowsRecordBytes) }
                return
            }
        }
    }

    // MARK: - Read when asked for

    /// What names the program: enough for `procName` and the process table. The paths are text
    /// at once (every event needs them); `comm` only where it lies, as it is needed only when
    /// neither PATH item 0 nor `a0` names the program (see ``commBytes``).
    struct Identity {
        var pid: Int64?
        /// The SYSCALL record's `comm` value, when present.
        var comm: FieldLocation?
        /// `exe`, as text.
        var exePath: String?
        /// PATH item 0 `name` (the path given to execve), as text.
        var invokedPath: String?
    }

    /// Where a value lies in a record this event keeps, to be decoded only if it is needed.
    struct FieldLocation {
        var range: Range<Int>
        var isQuoted: Bool

        init(of field: AuditFieldScanner.Field, in body: UnsafeRawBufferPointer) {
            let start = field.value.baseAddress.map { body.baseAddress!.distance(to: $0) } ?? 0
            range = start..<(start + field.value.count)
            isQuoted = field.isQuoted
        }
    }

    /// The SYSCALL record's `comm`, decoded as ``AuditFieldScanner/Field/untrustedBytes()`` does.
    var commBytes: [UInt8]? {
        guard let comm = identity.comm, let record = syscallRecord else { return nil }
        return record.withBytes { body in
            AuditFieldScanner.Field(
                key: UnsafeRawBufferPointer(start: body.baseAddress, count: 0),
                value: UnsafeRawBufferPointer(rebasing: body[comm.range]),
                isQuoted: comm.isQuoted,
                isTranslated: false
            ).untrustedBytes()
        }
    }

    /// Everything else an event carries, but the working directory (see ``cwd``).
    struct Context {
        var ppid: Int64?
        var uid: Int64?
        var euid: Int64?
        var auid: Int64?
        var tty: String?
        var key: String?
        /// ENRICHED translations (`UID="alice"`, `AUID="bob"`).
        var uidName: String?
        var auidName: String?
    }

    // Stored read or not (see the flags), so that ``identity`` and ``context`` lend them in place:
    // a copy retained each of their strings, for every exec.
    private var readIdentity = Identity()
    private var identityIsRead = false
    private var readContext = Context()
    private var contextIsRead = false
    /// Where a pass for the identity alone stopped, `readContext` then holding the context fields
    /// it went over: a context pass goes on from there instead of scanning the record again from
    /// its start. (Kept in `readContext`, not beside it: a second `Context` made every event over
    /// a hundred bytes larger, and was copied in and out.)
    private var contextReadUpTo: Int?
    /// Bytes of the SYSCALL record the field scans went over, in all (for tests).
    private(set) var syscallBytesScanned = 0

    /// Where reading this exec's identity and context (and its arguments) first touches memory,
    /// in ``PrefetchTargets``' order: the object, its SYSCALL, PATH, CWD and first EXECVE record.
    /// The reading thread, which has all of it in its cache, takes them as each exec completes;
    /// replay's main thread prefetches from them a few execs ahead (see
    /// ``CompletedExecBatch/prefetchForDeriving(at:)``), without touching the object.
    func appendPrefetchTargets(to addresses: inout [UnsafeRawPointer?]) {
        addresses.append(UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()))
        addresses.append(syscallRecord?.baseAddress)
        addresses.append(invokedPathRecord?.baseAddress)
        addresses.append(cwdRecord?.baseAddress)
        addresses.append(execveRecords.first?.baseAddress)
    }

    /// Read from the SYSCALL record up to `exe` (and PATH item 0), on first use.
    var identity: Identity {
        _read {
            if !identityIsRead { readSyscall(includingContext: false) }
            yield readIdentity
        }
    }

    /// Read from the whole SYSCALL record on first use; ``identity`` is read in the same pass when
    /// it was not read yet. After ``identity``, the scan goes on where the identity's stopped.
    var context: Context {
        _read {
            if !contextIsRead { readSyscall(includingContext: true) }
            yield readContext
        }
    }

    /// One pass over the SYSCALL record for what is asked. Identity fields are taken from the
    /// untranslated fields up to the one that completes pid, comm and exe; context fields from
    /// all of them, the last of a repeated key winning. A pass for the identity alone notes the
    /// context fields it went over, so the record is scanned once however the two are asked for.
    private func readSyscall(includingContext: Bool) {
        var identity = Identity()
        var readsIdentity = !identityIsRead
        var context = Context()
        var start = 0
        if includingContext, let offset = contextReadUpTo.take() {
            swap(&context, &readContext)
            start = offset
        }
        // Where a pass for the identity alone stopped (see `contextReadUpTo`).
        var stoppedAt: Int?
        syscallRecord?.withBytes { body in
            var scanner = AuditFieldScanner(body, from: start)
            defer { syscallBytesScanned += scanner.offset - start }
            while true {
                let fieldStart = scanner.offset
                guard let field = scanner.next() else {
                    if !includingContext { stoppedAt = scanner.offset }
                    break
                }
                let name = field.isTranslated ? SyscallFieldName.other : SyscallFieldName(field.key)
                if readsIdentity {
                    if field.isTranslated {
                        readsIdentity = false
                        if !includingContext {
                            // The context pass reads this field again, and learns it is translated.
                            stoppedAt = fieldStart
                            break
                        }
                    } else {
                        switch name {
                        case .pid: identity.pid = field.signedNumber()
                        case .comm: identity.comm = field.isAbsent ? nil : FieldLocation(of: field, in: body)
                        case .exe: identity.exePath = field.untrustedText()
                        default: break
                        }
                        if identity.pid != nil, identity.comm != nil, identity.exePath != nil { readsIdentity = false }
                    }
                }
                // Most fields are neither (gid, suid, a0…): no call for them.
                if name != .other || field.isTranslated { Self.readContextField(field, named: name, into: &context) }
                if !readsIdentity && !includingContext {
                    stoppedAt = scanner.offset
                    break
                }
            }
        }
        if !identityIsRead {
            invokedPathRecord?.withBytes { body in
                var scanner = AuditFieldScanner(body)
                while let field = scanner.next(), !field.isTranslated {
                    if bytesEqual(field.key, "name") {
                        identity.invokedPath = field.untrustedText()
                        return
                    }
                }
            }
            // Swapped in, not assigned: an assignment copied the fields (retaining each text) and
            // then destroyed both the local and the value replaced, for every exec.
            swap(&readIdentity, &identity)
            identityIsRead = true
        }
        if includingContext {
            swap(&readContext, &context)
            contextIsRead = true
        } else if let stoppedAt {
            swap(&readContext, &context)
            contextReadUpTo = stoppedAt
        }
    }

    private static func readContextField(
        _ field: AuditFieldScanner.Field,
        named name: SyscallFieldName,
        into context: inout Context
    ) {
        if field.isTranslated {
            let k = field.key
            if bytesEqual(k, "UID") {
                context.uidName = field.text()
            } else if bytesEqual(k, "AUID") {
                context.auidName = field.text()
            }
            return
        }
        switch name {
        case .ppid: context.ppid = field.signedNumber()
        case .uid: context.uid = field.signedNumber()
        case .euid: context.euid = field.signedNumber()
        case .auid: context.auid = field.signedNumber()
        case .tty: context.tty = field.text()
        case .key: context.key = Self.firstKey(field)
        case .pid, .comm, .exe, .other: break
        }
    }

    /// The CWD record's `cwd`, on first use.
    private(set) lazy var cwd: [UInt8]? = {
        cwdRecord?.withBytes { (body: UnsafeRawBufferPointer) -> [UInt8]? in
            var scanner = AuditFieldScanner(body)
            while let field = scanner.next(), !field.isTranslated {
                if bytesEqual(field.key, "cwd") { return field.untrustedBytes() }
            }
            return nil
        }
    }()

    /// Several keys are joined by 0x01 in one field; the first names the rule.
    private static func firstKey(_ field: AuditFieldScanner.Field) -> String? {
        guard var bytes = field.untrustedBytes() else { return nil }
        if let separator = bytes.firstIndex(of: 0x01) { bytes.removeSubrange(separator...) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The SYSCALL fields an exec event is read from, told apart by the key's bytes packed into one
/// number (first byte lowest, see ``packed(_:)``): a record has two dozen fields, and each key was
/// compared with the names byte by byte.
enum SyscallFieldName {
    case pid, comm, exe, ppid, uid, euid, auid, tty, key, other

    @inline(__always)
    init(_ key: UnsafeRawBufferPointer) {
        switch key.count {
        case 3:
            let packed = UInt32(key[0]) | UInt32(key[1]) << 8 | UInt32(key[2]) << 16
            switch packed {
            case 0x0064_6970: self = .pid  // "pid"
            case 0x0065_7865: self = .exe  // "exe"
            case 0x0064_6975: self = .uid  // "uid"
            case 0x0079_7474: self = .tty  // "tty"
            case 0x0079_656B: self = .key  // "key"
            default: self = .other
            }
        case 4:
            switch UInt32(littleEndian: key.loadUnaligned(as: UInt32.self)) {
            case 0x6D6D_6F63: self = .comm  // "comm"
            case 0x6469_7070: self = .ppid  // "ppid"
            case 0x6469_7565: self = .euid  // "euid"
            case 0x6469_7561: self = .auid  // "auid"
            default: self = .other
            }
        default: self = .other
        }
    }

    /// A name's bytes, first byte lowest, as ``init(_:)`` packs a key of its length (its cases are
    /// these numbers written out).
    static func packed(_ name: StaticString) -> UInt32 {
        var packed: UInt32 = 0
        name.withUTF8Buffer { bytes in
            for (shift, byte) in zip(stride(from: 0, to: 32, by: 8), bytes) { packed |= UInt32(byte) << shift }
        }
        return packed
    }
}

/// A record's fields as they came: referenced when the caller keeps record bytes alive (see
/// ``AuditEventAssembler/init(graceMilliseconds:maximumPending:borrowsRecordBytes:)``), else copied.
enum RecordBody {
    case borrowed(UnsafeRawBufferPointer)
    case owned([UInt8])

    init(_ bytes: UnsafeRawBufferPointer, borrow: Bool) {
        self = borrow ? .borrowed(bytes) : .owned(Array(bytes))
    }

    /// Heap bytes of a copied record (nothing for a borrowed one).
    var heldBytes: Int {
        switch self {
        case .borrowed: return 0
        case .owned(let bytes): return bytes.capacity == 0 ? 0 : HeapAllocation.bytes(holding: bytes.capacity)
        }
    }

    /// Bytes of the record.
    var count: Int {
        switch self {
        case .borrowed(let bytes): return bytes.count
        case .owned(let bytes): return bytes.count
        }
    }

    /// Where the bytes are, as a hint for a prefetch only: a copied record's bytes stay where
    /// they are (nothing changes them once kept), but are not promised to.
    var baseAddress: UnsafeRawPointer? {
        switch self {
        case .borrowed(let bytes): return bytes.baseAddress
        case .owned(let bytes): return bytes.withUnsafeBytes { $0.baseAddress }
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch self {
        case .borrowed(let bytes): return body(bytes)
        case .owned(let bytes): return bytes.withUnsafeBytes(body)
        }
    }
}

extension Optional where Wrapped == RecordBody {
    fileprivate var heldBytes: Int { self?.heldBytes ?? 0 }
}
