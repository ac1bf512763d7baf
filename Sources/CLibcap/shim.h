#ifndef EXECWATCH_CLIBCAP_SHIM_H
#define EXECWATCH_CLIBCAP_SHIM_H
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <grp.h>
#include <unistd.h>

/* glibc declares these only with _GNU_SOURCE; glibc applies them to every thread. */
extern int setresuid(uid_t ruid, uid_t euid, uid_t suid);
extern int setresgid(gid_t rgid, gid_t egid, gid_t sgid);

extern pid_t gettid(void);

/* malloc.h's mallopt, for M_ARENA_MAX: glibc grows an arena per thread otherwise. */
extern int mallopt(int parameter, int value);
#define EXECWATCH_M_ARENA_MAX (-8)

/* prctl is variadic, which Swift cannot call. */
static inline int execwatch_prctl(int option, unsigned long argument) {
    return prctl(option, argument, 0UL, 0UL, 0UL);
}
#endif
