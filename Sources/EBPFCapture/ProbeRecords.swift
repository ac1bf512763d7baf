/// The records the exec probe (`Probe/exec_probe.bpf.c`) writes to its ring buffer, by byte
/// offset (host byte order), as the probe's `struct exec_record` and `struct arguments_record` lay
/// them out (the probe asserts these offsets when it is compiled):
///
/// ```
/// exec_record       kind u32 @0 (1), flags u32 @4, cookie u64 @8, pid u32 @16, ppid u32 @20,
///                   uid u32 @24, euid u32 @28, auid u32 @32, sessionid u32 @36,
///                   start_boottime u64 @40, parent_start_boottime u64 @48,
///                   arguments_bytes u32 @56, arguments_sent u32 @60, filename_bytes u16 @64,
///                   exe_bytes u16 @66, cwd_bytes u16 @68, tty_bytes u16 @70,
///                   comm [16] @72, parent_comm [16] @88,
///                   data @104: filename, exe, cwd, tty (paths as components leaf first, each NUL-ended)
/// arguments_record  kind u32 @0 (2), length u32 @4, cookie u64 @8, offset u32 @16, data @24
/// ```
enum ProbeRecords {
    static let execKind: UInt32 = 1
    static let argumentsKind: UInt32 = 2
    static let execHeaderSize = 104
    static let argumentsHeaderSize = 24
    /// The login uid (and session) of a process that has none.
    static let unset: UInt32 = 0xffff_ffff

    /// `exec_record.flags`.
    struct Flags: OptionSet {
        let rawValue: UInt32
        /// More argument bytes than the probe sends (256 KiB).
        static let argumentsTruncated = Flags(rawValue: 1)
        /// A chunk of arguments could not be read or had no room in the ring.
        static let argumentsIncomplete = Flags(rawValue: 2)
        static let exeTruncated = Flags(rawValue: 4)
        static let cwdTruncated = Flags(rawValue: 8)
        /// execveat with a directory descriptor (fexecve): the kernel named the file `/dev/fd/N`
        /// (or `/dev/fd/N/name` for a name relative to it).
        static let byDescriptor = Flags(rawValue: 16)
    }

    /// One `exec_record`, its byte fields still pointing into the ring (valid during the callback).
    struct Exec {
        var flags: Flags
        var cookie: UInt64
        var pid: UInt32
        var parentPID: UInt32
        var uid: UInt32
        var euid: UInt32
        var auid: UInt32
        var startTime: UInt64
        var parentStartTime: UInt64
        var argumentBytes: Int
        var argumentBytesSent: Int
        var comm: UnsafeRawBufferPointer
        var parentComm: UnsafeRawBufferPointer
        var filename: UnsafeRawBufferPointer
        var exe: UnsafeRawBufferPointer
        var cwd: UnsafeRawBufferPointer
        var tty: UnsafeRawBufferPointer
    }

    /// One `arguments_record`: `bytes` of argv, at `offset` in the exec's argument area.
    struct Arguments {
        var cookie: UInt64
        var offset: Int
        var bytes: UnsafeRawBufferPointer
    }

    enum Record {
        case exec(Exec)
        case arguments(Arguments)
    }

    /// The record in `bytes`; nil when it is not one the probe writes or is cut short.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Record? {
        guard bytes.count >= 8 else { return nil }
        switch bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) {
        case execKind: return parseExec(bytes).map(Record.exec)
        case argumentsKind:
            guard bytes.count >= argumentsHeaderSize else { return nil }
            let length = Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            guard length <= bytes.count - argumentsHeaderSize else { return nil }
            return .arguments(
                Arguments(
                    cookie: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                    offset: Int(bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)),
                    bytes: UnsafeRawBufferPointer(
                        rebasing: bytes[argumentsHeaderSize..<argumentsHeaderSize + length]
                    )
                )
            )
        default: return nil
        }
    }

    private static func parseExec(_ bytes: UnsafeRawBufferPointer) -> Exec? {
        guard bytes.count >= execHeaderSize else { return nil }
        func u32(_ offset: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        func u64(_ offset: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        func u16(_ offset: Int) -> Int { Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
        let (filenameBytes, exeBytes, cwdBytes, ttyBytes) = (u16(64), u16(66), u16(68), u16(70))
        guard filenameBytes + exeBytes + cwdBytes + ttyBytes <= bytes.count - execHeaderSize else { return nil }
        var start = execHeaderSize
        func field(_ length: Int) -> UnsafeRawBufferPointer {
            defer { start += length }
            return UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])
        }
        func name(_ offset: Int) -> UnsafeRawBufferPointer {
            let field = bytes[offset..<offset + 16]
            return UnsafeRawBufferPointer(rebasing: field.prefix { $0 != 0 })
        }
        return Exec(
            flags: Flags(rawValue: u32(4)),
            cookie: u64(8),
            pid: u32(16),
            parentPID: u32(20),
            uid: u32(24),
            euid: u32(28),
            auid: u32(32),
            startTime: u64(40),
            parentStartTime: u64(48),
            argumentBytes: Int(u32(56)),
            argumentBytesSent: Int(u32(60)),
            comm: name(72),
            parentComm: name(88),
            filename: field(filenameBytes),
            exe: field(exeBytes),
            cwd: field(cwdBytes),
            tty: field(ttyBytes)
        )
    }

    /// A path the probe wrote as components leaf first, each NUL-terminated, from the root
    /// (`nc\0bin\0usr\0` → `/usr/bin/nc`); no component: `/`.
    static func path(fromLeafFirst components: UnsafeRawBufferPointer) -> String {
        // Components from the last (the root's child) to the first, each written after a "/":
        // one allocation, the path's own.
        var end = components.endIndex
        if end > components.startIndex, components[end - 1] == 0 { end -= 1 }
        guard end > components.startIndex else { return "/" }
        return String(unsafeUninitializedCapacity: end - components.startIndex + 1) { path in
            var written = 0
            var componentEnd = end
            while true {
                var componentStart = componentEnd
                while componentStart > components.startIndex, components[componentStart - 1] != 0 {
                    componentStart -= 1
                }
                path[written] = UInt8(ascii: "/")
                written += 1
                for index in componentStart..<componentEnd {
                    path[written] = components[index]
                    written += 1
                }
                if componentStart == components.startIndex { return written }
                componentEnd = componentStart - 1
            }
        }
    }
}
