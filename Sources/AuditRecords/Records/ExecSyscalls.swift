import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// Which (audit arch, syscall number) pairs are program executions: `execve` and `execveat`.
///
/// Audit arch values are `AUDIT_ARCH_*` from `linux/audit.h`; syscall numbers from each
/// architecture's syscall table.
enum ExecSyscalls {
    static func isExec(arch: UInt64, syscall: Int64) -> Bool {
        switch arch {
        case 0xc000_003e: return syscall == 59 || syscall == 322  // x86_64
        case 0x4000_0003: return syscall == 11 || syscall == 358  // i386
        // aarch64, riscv64, loongarch64
        case 0xc000_00b7, 0xc000_00f3, 0xc000_0102: return syscall == 221 || syscall == 281
        case 0x4000_0028: return syscall == 11 || syscall == 387  // arm (EABI)
        case 0x8000_0015, 0xc000_0015, 0x0000_0014: return syscall == 11 || syscall == 362  // ppc64, ppc64le, ppc
        case 0x8000_0016, 0x0000_0016: return syscall == 11 || syscall == 354  // s390x, s390
        default: return false
        }
    }

    /// Whether this table has the arch's syscall numbers (else only auditd's translation tells).
    static func knows(arch: UInt64) -> Bool {
        switch arch {
        case 0xc000_003e, 0x4000_0003, 0xc000_00b7, 0xc000_00f3, 0xc000_0102, 0x4000_0028, 0x8000_0015, 0xc000_0015,
            0x0000_0014, 0x8000_0016, 0x0000_0016:
            return true
        default: return false
        }
    }
}
