import Testing

@testable import AuditRecords

/// The name compared as text, as `SyscallFieldName` told keys apart before it packed them.
private func naiveName(_ key: [UInt8]) -> SyscallFieldName {
    switch String(decoding: key, as: UTF8.self) {
    case "pid": .pid
    case "comm": .comm
    case "exe": .exe
    case "ppid": .ppid
    case "uid": .uid
    case "euid": .euid
    case "auid": .auid
    case "tty": .tty
    case "key": .key
    default: .other
    }
}

private func name(_ key: [UInt8]) -> SyscallFieldName {
    key.withUnsafeBytes { SyscallFieldName($0) }
}

@Suite("SyscallFieldName tells keys apart by their packed bytes")
struct SyscallFieldNameTests {
    static let names = ["pid", "comm", "exe", "ppid", "uid", "euid", "auid", "tty", "key"]

    @Test func packedCasesAreTheNames() {
        let packed = Self.names.map { name -> UInt32 in
            var value: UInt32 = 0
            for (shift, byte) in zip(stride(from: 0, to: 32, by: 8), Array(name.utf8)) {
                value |= UInt32(byte) << UInt32(shift)
            }
            return value
        }
        let fromStatic: [UInt32] = [
            SyscallFieldName.packed("pid"), SyscallFieldName.packed("comm"), SyscallFieldName.packed("exe"),
            SyscallFieldName.packed("ppid"), SyscallFieldName.packed("uid"), SyscallFieldName.packed("euid"),
            SyscallFieldName.packed("auid"), SyscallFieldName.packed("tty"), SyscallFieldName.packed("key"),
        ]
        #expect(packed == fromStatic)
        for name in Self.names { #expect(naiveName(Array(name.utf8)) != .other) }
    }

    /// Every name, every key one byte away from a name (changed, cut, lengthened, case changed),
    /// the other SYSCALL keys, and every key of up to two bytes: as the naive comparison says.
    @Test func agreesWithComparingText() {
        var keys: [[UInt8]] = [[]]
        for a in UInt8(0)...255 {
            keys.append([a])
            for b in [UInt8(ascii: "d"), UInt8(ascii: "i"), 0, 0xFF] { keys.append([a, b]) }
        }
        let others = [
            "arch", "syscall", "success", "exit", "a0", "a1", "a2", "a3", "items", "gid", "suid", "fsuid",
            "egid", "sgid", "fsgid", "ses", "subj", "UID", "AUID", "PID", "pidx", "xpid", "comm2", "ex",
        ]
        keys += others.map { Array($0.utf8) }
        for name in Self.names {
            let bytes = Array(name.utf8)
            keys.append(bytes)
            keys.append(Array(bytes.dropLast()))
            keys.append(bytes + [0])
            keys.append(bytes + bytes)
            for position in bytes.indices {
                for replacement in [UInt8(0), 0x20, 0x80, 0xFF, bytes[position] ^ 0x20, bytes[position] &+ 1] {
                    var changed = bytes
                    changed[position] = replacement
                    keys.append(changed)
                }
            }
        }
        for key in keys { #expect(name(key) == naiveName(key), "\(key)") }
    }
}
