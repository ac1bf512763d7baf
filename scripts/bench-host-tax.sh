#!/usr/bin/env bash
# bench-host-tax.sh — what each way of capturing execs costs the host's *other* programs.
#
# A tiny C benchmark (gcc, into a temp dir) measures, on this host:
#   getpid      ns per call, best of 5 rounds of 2,000,000 calls (the bare system-call path)
#   open+close  ns per pair on /etc/hostname, best of 5 rounds of 200,000
#   fork+exec   /bin/true launched and reaped per second over BENCH_SECONDS (default 3)
# and one everyday workload:
#   make -j2    building a small generated C project (24 files and a link: gcc, cc1, as, ld), the
#               best wall time of BENCH_MAKE_ROUNDS (3) clean builds
# with (BENCH_MODES, default all, in this order):
#   none            no agent
#   ebpf            execwatch run --source ebpf (the probe on sched_process_exec)
#   audit-unicast   execwatch run --source audit-unicast (its execve,execveat rules, b64 and b32)
#   proc-connector  execwatch run --source proc-connector
#   auditd-laurel   auditd (`auditd -n -s enable -c TMPDIR`, a temporary configuration) with laurel
#                   as its only plugin, and the exec rules execwatch installs (-a always,exit
#                   -F arch=b64|b32 -S execve,execveat -k KEY; -b 8192 --backlog_wait_time 0)
# Each starts fresh (probe attached / rules installed: the agent's status says its source runs)
# and is stopped after. Prints one table, side by side, with the change from "none" in percent
# (for getpid, open+close and make a + is slower; for fork+exec a − is fewer per second), the
# load average during the run, and the commands.
#
# Needs root. Holds the audit lock the tests use (/run/lock/execwatch-audit-tests.lock) for the
# whole run and leaves audit as found (scripts/lib/host-audit.sh: rules with the bench key
# deleted, enabled flag and backlog settings put back and compared; auditd's temporary files and
# pid file removed). BENCH_BIN: the execwatch binary (default: .build/release/execwatch, built
# with `swift build -c release --product execwatch` when missing). Other load on the host skews
# the figures: compare the rows of one run, not runs of different days.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RATE=${BENCH_SECONDS:-3}
MAKE_ROUNDS=${BENCH_MAKE_ROUNDS:-3}
MODES=${BENCH_MODES:-none ebpf audit-unicast proc-connector auditd-laurel}
KEY=execwatch-bench-tax
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
HOST_NAME=bench
log() { printf '[bench-host-tax] %s\n' "$*" >&2; }
die() { printf '[bench-host-tax] ERROR: %s\n' "$*" >&2; exit 1; }
cmd() { printf '[bench-host-tax] $ %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || die "run me as root (audit, eBPF)"
for m in $MODES; do
    [[ $m =~ ^(none|ebpf|audit-unicast|proc-connector|auditd-laurel)$ ]] || die "unknown mode '$m' in BENCH_MODES"
done
[[ $MAKE_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_MAKE_ROUNDS must be a positive integer"
"$REPO/scripts/install-deps.sh" bench || die "cannot install what the benchmark needs"

BIN=${BENCH_BIN:-$REPO/.build/release/execwatch}
if [[ ! -x $BIN ]]; then
    (cd "$REPO" && swift build -c release --product execwatch) || die "release build failed"
fi
WORK=$(mktemp -d /tmp/execwatch-bench-tax.XXXXXX)
chmod 755 "$WORK" # laurel (as _laurel) must reach its directory below it
cp "$BIN" "$WORK/execwatch"
EXECWATCH=$WORK/execwatch
log "execwatch: $BIN (copied to $EXECWATCH), built $(date -r "$BIN" '+%F %T')"

cat >"$WORK/tax.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    double best_getpid = 1e9, best_open = 1e9;
    for (int round = 0; round < 5; round++) {
        double start = now();
        for (int i = 0; i < 2000000; i++) syscall(SYS_getpid);
        double ns = (now() - start) / 2000000 * 1e9;
        if (ns < best_getpid) best_getpid = ns;
        start = now();
        for (int i = 0; i < 200000; i++) close(open("/etc/hostname", O_RDONLY));
        ns = (now() - start) / 200000 * 1e9;
        if (ns < best_open) best_open = ns;
    }
    char *child_argv[] = {"/bin/true", NULL};
    char *child_env[] = {NULL};
    long launched = 0;
    double start = now();
    while (now() - start < seconds) {
        pid_t pid = fork();
        if (pid == 0) {
            execve("/bin/true", child_argv, child_env);
            _exit(127);
        }
        if (pid > 0) {
            waitpid(pid, NULL, 0);
            launched++;
        }
    }
    printf("%.1f %.1f %.0f\n", best_getpid, best_open, launched / (now() - start));
    return 0;
}
C
gcc -O2 -Wall -o "$WORK/tax" "$WORK/tax.c" || die "gcc failed"

# The everyday workload: a small C project, built clean with make -j2.
PROJECT=$WORK/project
mkdir -p "$PROJECT"
for ((f = 0; f < 24; f++)); do
    {
        echo "#include <stdio.h>"
        echo "#include <string.h>"
        for ((g = 0; g < 8; g++)); do
            echo "int f${f}_$g(const char *s) { int h = $g; for (size_t i = 0; i < strlen(s); i++) h = h * 31 + s[i]; return h; }"
        done
        echo "int f$f(const char *s) { return f${f}_0(s) ^ f${f}_7(s); }"
    } >"$PROJECT/f$f.c"
done
{
    for ((f = 0; f < 24; f++)); do echo "int f$f(const char *s);"; done
    echo "int main(int argc, char **argv) { int h = 0;"
    for ((f = 0; f < 24; f++)); do echo "    h ^= f$f(argc > 1 ? argv[1] : \"x\");"; done
    echo "    return h == 42; }"
} >"$PROJECT/main.c"
printf 'OBJS := $(patsubst %%.c,%%.o,$(wildcard *.c))\nprog: $(OBJS)\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -c -o $@ $<\n' \
    >"$PROJECT/Makefile"
make_seconds() { # best wall time of MAKE_ROUNDS clean builds, in seconds
    local round start elapsed best=
    for ((round = 0; round < MAKE_ROUNDS; round++)); do
        rm -f "$PROJECT"/*.o "$PROJECT/prog"
        start=$EPOCHREALTIME
        make -s -j2 -C "$PROJECT" >/dev/null || die "make failed in $PROJECT"
        elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}')
        if [[ -z $best ]] || awk -v e="$elapsed" -v b="$best" 'BEGIN{exit !(e < b)}'; then best=$elapsed; fi
    done
    echo "$best"
}

# The audit lock, the recorded audit state, and on exit: stop what was started, audit as found.
# shellcheck source=lib/host-audit.sh
source "$REPO/scripts/lib/host-audit.sh"
# shellcheck source=lib/temporary-auditd.sh
source "$REPO/scripts/lib/temporary-auditd.sh"

declare -A RESULT LOAD
COMMANDS=()
STATE_NOTES=()
for mode in $MODES; do
    dir=$WORK/$mode
    mkdir -p "$dir"
    case $mode in
        none) ;;
        auditd-laurel) start_temporary_auditd "$dir" 1 "(auditd-laurel) " || die "auditd with laurel did not start" ;;
        *)
            start_agent "$mode" "$dir/state" "$dir/agent.sock" "$dir/agent.log" "($mode) " ||
                die "execwatch --source $mode did not start: $(tail -n 20 "$dir/agent.log")"
            [[ $(ew_status "$dir/agent.sock" | jq -r .source) == "$mode" ]] ||
                die "execwatch runs another source than $mode: $(ew_status "$dir/agent.sock" | jq -r .sourceReason)"
            ;;
    esac
    sleep 1
    cmd "$WORK/tax $SECONDS_PER_RATE; make -s -j2 -C $PROJECT (best of $MAKE_ROUNDS clean builds)"
    RESULT[$mode]="$("$WORK/tax" "$SECONDS_PER_RATE") $(make_seconds)"
    LOAD[$mode]=$(cut -d' ' -f1-3 /proc/loadavg)
    case $mode in
        none) ;;
        auditd-laurel) stop_temporary_auditd || log "auditd exited non-zero" ;;
        *) stop_pid "$AGENT_PID" || die "execwatch --source $mode exit status $?: $(tail -n 20 "$dir/agent.log")" ;;
    esac
    if [[ $(audit_state) == "$BEFORE_STATE" ]]; then
        STATE_NOTES+=("$mode: audit state as found after it stopped")
    else
        STATE_NOTES+=("$mode: audit state NOT as found after it stopped")
    fi
    log "$mode: ${RESULT[$mode]} (getpid ns, open+close ns, fork+exec/s, make s), load average ${LOAD[$mode]}"
done

base=${RESULT[none]:-}
[[ -n $base ]] || base=${RESULT[${MODES%% *}]}
read -r base_getpid base_open base_rate base_make <<<"$base"
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.0f%%", (a - b) / b * 100}'; }
echo
echo "== bench-host-tax: what capturing execs costs other programs ($(nproc) cores, shared; kernel $(uname -r)) =="
printf '| %-16s | %-17s | %-17s | %-17s | %-17s | %-16s |\n' "host runs" "getpid (ns)" "open+close (ns)" \
    "fork+exec (/s)" "make -j2 (s)" "load average"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------" "-------------------" "-------------------" \
    "-------------------" "-------------------" "------------------"
for mode in $MODES; do
    read -r g o r m <<<"${RESULT[$mode]}"
    printf '| %-16s | %-17s | %-17s | %-17s | %-17s | %-16s |\n' "$mode" "$g ($(pct "$g" "$base_getpid"))" \
        "$o ($(pct "$o" "$base_open"))" "$r ($(pct "$r" "$base_rate"))" "$m ($(pct "$m" "$base_make"))" "${LOAD[$mode]}"
done
echo
echo "host audit state checks after each stopped:"
for n in "${STATE_NOTES[@]}"; do echo "  $n"; done
echo "commands:"
for c in "${COMMANDS[@]}"; do echo "  $c"; done
