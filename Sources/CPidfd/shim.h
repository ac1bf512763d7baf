#ifndef EXECWATCH_CPIDFD_SHIM_H
#define EXECWATCH_CPIDFD_SHIM_H
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* A descriptor naming one process (Linux 5.3), -1 with errno on failure. glibc wraps it only
   from 2.36, and `syscall` is variadic, which Swift cannot call. */
static inline int execwatch_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0U);
}
#endif
