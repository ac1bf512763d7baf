#ifndef EXECWATCH_CAUDIT_SHIM_H
#define EXECWATCH_CAUDIT_SHIM_H
#include <libaudit.h>
#include <linux/audit.h>
#include <linux/netlink.h>

/* libaudit's rule builders keep per-rule state in globals that auditctl resets and sets itself
 * (declared in libaudit's private.h, exported by libaudit.so): `audit_rule_fieldpair_data`
 * refuses `key=` unless `_audit_syscalladded` says a system call was added, and `arch=` sets
 * `_audit_elf`, which `audit_rule_syscallbyname_data` reads. Callers must serialize rule building. */
extern int _audit_permadded;
extern int _audit_archadded;
extern int _audit_syscalladded;
extern int _audit_exeadded;
extern int _audit_filterfsadded;
extern unsigned int _audit_elf;

/* recvmmsg(2): glibc declares it (and struct mmsghdr) only with _GNU_SOURCE. This is the
 * kernel's struct mmsghdr, and the system call itself. */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
struct execwatch_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
static inline int execwatch_recvmmsg(int fd, struct execwatch_mmsghdr *vector, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vector, count, flags, (void *)0);
}

/* Forget the previous rule's state, as auditctl does before each rule. */
static inline void execwatch_audit_rule_builder_reset(void) {
    _audit_permadded = 0;
    _audit_archadded = 0;
    _audit_syscalladded = 0;
    _audit_exeadded = 0;
    _audit_filterfsadded = 0;
    _audit_elf = 0;
}

/* Record that the rule has its system calls, as auditctl does after `-S`. */
static inline void execwatch_audit_rule_builder_syscalls_added(void) {
    _audit_syscalladded = 1;
}
#endif
