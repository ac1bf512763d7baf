#ifndef EXECWATCH_CSCHED_SHIM_H
#define EXECWATCH_CSCHED_SHIM_H
#include <sys/syscall.h>
#include <unistd.h>

#define EXECWATCH_CPU_MASK_WORDS (4096 / (8 * sizeof(unsigned long)))

/* Replay's CPUs. Swift's Glibc module is built without _GNU_SOURCE, so it declares neither
   sched_getaffinity, sched_setaffinity, sched_getcpu nor CPU_COUNT, and `syscall` is variadic,
   which Swift cannot call. */

/* How many CPUs this process may run on (its affinity mask), at least 1. */
static inline int execwatch_available_cpus(void) {
    unsigned long mask[EXECWATCH_CPU_MASK_WORDS] = {0};
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    int count = 0;
    for (long i = 0; i < bytes / (long)sizeof(unsigned long); i++) count += __builtin_popcountl(mask[i]);
    return count > 0 ? count : 1;
}

/* The CPU the calling thread runs on now, or -1. */
static inline int execwatch_current_cpu(void) {
    unsigned cpu = 0;
    return syscall(SYS_getcpu, &cpu, (void *)0, (void *)0) == 0 ? (int)cpu : -1;
}

/* The first CPU after `cpu` (wrapping around) that the calling thread may run on, or -1: `cpu`
   itself when it is the only one. */
static inline int execwatch_next_available_cpu(int cpu) {
    unsigned long mask[EXECWATCH_CPU_MASK_WORDS] = {0};
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    if (bytes <= 0 || cpu < 0) return -1;
    int bits = (int)(bytes * 8), per = (int)(8 * sizeof(unsigned long));
    for (int step = 1; step <= bits; step++) {
        int candidate = (cpu + step) % bits;
        if (mask[candidate / per] & (1UL << (candidate % per))) return candidate;
    }
    return -1;
}

/* Binds the calling thread to `cpu` alone; 0 on success, -1 when the kernel refuses. */
static inline int execwatch_bind_thread_to_cpu(int cpu) {
    unsigned long mask[EXECWATCH_CPU_MASK_WORDS] = {0};
    int per = (int)(8 * sizeof(unsigned long));
    if (cpu < 0 || cpu >= (int)(EXECWATCH_CPU_MASK_WORDS * per)) return -1;
    mask[cpu / per] = 1UL << (cpu % per);
    return syscall(SYS_sched_setaffinity, 0, sizeof mask, mask) == 0 ? 0 : -1;
}
#endif
