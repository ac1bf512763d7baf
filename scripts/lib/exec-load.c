/* exec-load RATE SECONDS [BYTES] — the exec load of the benchmarks and the soak
 * (scripts/bench-live.sh, scripts/bench-memory.sh, scripts/soak.sh compile it with gcc).
 *
 * posix_spawns /bin/true (empty environment) RATE times per second for SECONDS seconds on
 * absolute CLOCK_MONOTONIC deadlines (start + i/RATE: a late launch does not shift later ones),
 * or with RATE 0 as fast as it can with up to 4 children running. Without BYTES (or 0) the
 * child gets no argument; with BYTES it gets one argument of BYTES bytes, distinct for every exec
 * (a counter in its first 20 bytes). Children are reaped as it goes; a child that does not exit 0
 * counts as failed, like a spawn that failed.
 *
 * Prints one line: launched=N failed=N late=N max_late_us=N elapsed_s=X
 * (late: launches more than one period after their deadline). Exit status 1 when any failed,
 * 2 on bad arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns(const struct timespec *t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }
static long running, failed;

static void reap(int block) {
    int status;
    while (running > 0 && waitpid(-1, &status, block ? 0 : WNOHANG) > 0) {
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) { fprintf(stderr, "usage: exec-load RATE SECONDS [BYTES]\n"); return 2; }
    long rate = atol(argv[1]);
    double seconds = atof(argv[2]);
    long bytes = argc > 3 ? atol(argv[3]) : 0;
    if (rate < 0 || seconds <= 0) { fprintf(stderr, "exec-load: RATE must be >= 0 and SECONDS > 0\n"); return 2; }
    if (bytes != 0 && (bytes < 21 || bytes > 131071)) {
        fprintf(stderr, "exec-load: BYTES must be 21…131071 (the kernel's limit per argument), or 0\n");
        return 2;
    }
    char *argument = NULL;
    if (bytes > 0) {
        argument = malloc(bytes + 1);
        if (!argument) { perror("exec-load: malloc"); return 2; }
        memset(argument, 'x', bytes);
        argument[bytes] = 0;
    }
    char *child_argv[] = { "/bin/true", argument, NULL };
    char *child_env[] = { NULL };
    long launched = 0, late = 0;
    long long max_late = 0;
    struct timespec start, now, deadline;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long long end = ns(&start) + (long long)(seconds * 1e9);
    long long period = rate > 0 ? 1000000000LL / rate : 0;
    for (long i = 0;; i++) {
        if (rate > 0) {
            long long d = ns(&start) + i * period;
            if (d >= end) break;
            deadline.tv_sec = d / 1000000000LL;
            deadline.tv_nsec = d % 1000000000LL;
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {}
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long lateness = ns(&now) - d;
            if (lateness > period) late++;
            if (lateness > max_late) max_late = lateness;
        } else {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (ns(&now) >= end) break;
            while (running >= 4) reap(1);
        }
        if (argument) {
            snprintf(argument, 21, "%020ld", i);
            argument[20] = 'x';
        }
        pid_t pid;
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, child_argv, child_env) != 0) {
            failed++;
            reap(1);
            continue;
        }
        launched++;
        running++;
        reap(0);
    }
    reap(1);
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("launched=%ld failed=%ld late=%ld max_late_us=%lld elapsed_s=%.3f\n", launched, failed, late,
           max_late / 1000, (ns(&now) - ns(&start)) / 1e9);
    return failed ? 1 : 0;
}
