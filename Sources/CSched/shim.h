#ifndef EXECWATCH_CSCHED_SHIM_H
#define EXECWATCH_CSCHED_SHIM_H
#include <sys/syscall.h>
#include <unistd.h>

/* How many CPUs this process may run on (its affinity mask), at least 1. Swift's Glibc module is
   built without _GNU_SOURCE, so it declares neither sched_getaffinity nor CPU_COUNT, and
   `syscall` is variadic, which Swift cannot call. */
static inline int execwatch_available_cpus(void) {
    unsigned long mask[4096 / (8 * sizeof(unsigned long))] = {0};
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    int count = 0;
    for (long i = 0; i < bytes / (long)sizeof(unsigned long); i++) count += __builtin_popcountl(mask[i]);
    return count > 0 ? count : 1;
}
#endif
