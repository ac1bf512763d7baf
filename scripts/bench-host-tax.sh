#!/usr/bin/env bash
# bench-host-tax.sh — what each way of capturing execs costs the host's *other* programs.
#
# A tiny C benchmark (gcc, into a temp dir) measures, on this host:
#   getpid      ns per call, best of 5 rounds of 2,000,000 calls (the bare system-call path)
#   open+close  ns per pair on /etc/hostname, best of 5 rounds of 200,000
#   fork+exec   /bin/true launched and reaped per second over BENCH_SECONDS (default 3)
# and one everyday workload:
#   make -j2    building a small generated C project (24 files and a link: gcc, cc1, as, ld), the
#               best wall time of BENCH_MAKE_ROUNDS (1) clean builds
# with (BENCH_MODES, default all, in this order):
#   none            no agent
#   ebpf            execwatch run --source ebpf (the probe on sched_process_exec)
#   audit-unicast   execwatch run --source audit-unicast (its execve,execveat rules, b64 and b32)
#   proc-connector  execwatch run --source proc-connector
#   auditd-laurel   auditd (`auditd -n -s enable -c TMPDIR`, a temporary configuration) with laurel
#                   as its only plugin, and the exec rules execwatch installs (-a always,exit
#                   -F arch=b64|b32 -S execve,execveat -k KEY; -b 8192 --backlog_wait_time 0)
# Each starts fresh (probe attached / rules installed: the agent's status says its source runs)
# and is stopped after.
#
# Rounds: the modes run BENCH_ROUNDS (5) times, interleaved (round 1 in the order above, round 2
# in reverse, and so on), so a drift of the host's load (other builds, the CPU's clock) falls on
# every mode alike instead of on whichever ran last. The table shows each figure's median over the
# rounds with its spread (min–max), and the change of the medians from "none" in percent (for
# getpid, open+close and make a + is slower; for fork+exec a − is fewer per second), the load
# average during the run, and the commands.
#
# ebpf rows also show what the probe itself costs per exec, from the kernel's own accounting:
# kernel.bpf_stats_enabled is set to 1 only while that mode runs (and put back as found after it,
# and on exit), and the probe's run_time_ns / run_cnt (`bpftool prog show id N`, N from the
# agent's link in /proc/PID/fdinfo) is its ns per exec over that round. Beside it, the agent's own
# CPU time (its threads' schedstat) over the round per exec the probe ran for.
#
# Needs root. With an audit mode in BENCH_MODES it holds the audit lock the tests use
# (/run/lock/execwatch-audit-tests.lock) for the whole run and leaves audit as found
# (scripts/lib/host-audit.sh: rules with the bench key deleted, enabled flag and backlog settings
# put back and compared; auditd's temporary files and pid file removed); without one (e.g.
# BENCH_MODES="none ebpf") audit is not touched and the lock is not taken. BENCH_BIN: the
# execwatch binary (default: .build/release/execwatch, built with `swift build -c release
# --product execwatch` when missing). Other load on the host skews the figures: compare the rows
# of one run, not runs of different days; the spread says how far to trust a difference.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RATE=${BENCH_SECONDS:-3}
MAKE_ROUNDS=${BENCH_MAKE_ROUNDS:-1}
ROUNDS=${BENCH_ROUNDS:-5}
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
[[ $MAKE_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_MAKE_ROUNDS must be a positive integer, not '$MAKE_ROUNDS'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, not '$ROUNDS'"
[[ " $MODES " =~ \ (audit-unicast|auditd-laurel)\  ]] || HOST_AUDIT_UNTOUCHED=1
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

# The probe's own cost: kernel.bpf_stats_enabled only while an ebpf round runs, as found after.
BPF_STATS_FOUND=$(sysctl -n kernel.bpf_stats_enabled)
restore_bpf_stats() {
    [[ $(sysctl -n kernel.bpf_stats_enabled) == "$BPF_STATS_FOUND" ]] ||
        sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_FOUND" || log "could not put kernel.bpf_stats_enabled back to $BPF_STATS_FOUND"
}
trap 'rc=$?; restore_bpf_stats; (exit $rc); cleanup' EXIT
# probe_stats PID — "run_time_ns run_cnt" of the program attached by the agent PID (its link's
# prog_id in /proc/PID/fdinfo), "0 0" when not found.
probe_stats() {
    local id
    id=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2; exit}')
    [[ -n $id ]] || { echo "0 0"; return; }
    bpftool prog show id "$id" --json | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
# cpu_ns PID — CPU time of all the process's threads so far, ns (schedstat: exact, unlike ticks)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d", s}'; }

declare -A RESULT LOAD PROBE
COMMANDS=()
STATE_NOTES=()
ORDER=()
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then ORDER=($MODES); else ORDER=($(printf '%s\n' $MODES | tac)); fi
    for mode in "${ORDER[@]}"; do
        dir=$WORK/$mode.$round
        mkdir -p "$dir"
        [[ $mode != ebpf ]] || sysctl -q -w kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"
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
        if [[ $mode == ebpf ]]; then
            read -r probe_ns0 probe_runs0 <<<"$(probe_stats "$AGENT_PID")"
            agent_ns0=$(cpu_ns "$AGENT_PID")
        fi
        cmd "$WORK/tax $SECONDS_PER_RATE; make -s -j2 -C $PROJECT (best of $MAKE_ROUNDS clean builds)"
        RESULT[$mode]+="$("$WORK/tax" "$SECONDS_PER_RATE") $(make_seconds)"$'\n'
        LOAD[$mode]+="$(cut -d' ' -f1 /proc/loadavg) "
        if [[ $mode == ebpf ]]; then
            read -r probe_ns1 probe_runs1 <<<"$(probe_stats "$AGENT_PID")"
            agent_ns1=$(cpu_ns "$AGENT_PID")
            runs=$((probe_runs1 - probe_runs0))
            ((runs > 0)) || die "the probe of the ebpf agent (pid $AGENT_PID) ran for no exec (bpf_stats)"
            PROBE[$mode]+="$(awk -v t=$((probe_ns1 - probe_ns0)) -v n=$runs -v c=$((agent_ns1 - agent_ns0)) \
                'BEGIN{printf "%.0f %.1f", t / n, c / n / 1000}')"$'\n'
        fi
        case $mode in
            none) ;;
            auditd-laurel) stop_temporary_auditd || log "auditd exited non-zero" ;;
            *) stop_pid "$AGENT_PID" || die "execwatch --source $mode exit status $?: $(tail -n 20 "$dir/agent.log")" ;;
        esac
        [[ $mode != ebpf ]] || restore_bpf_stats
        if ((STATE_RECORDED)); then
            if [[ $(audit_state) == "$BEFORE_STATE" ]]; then
                STATE_NOTES+=("$mode (round $round): audit state as found after it stopped")
            else
                STATE_NOTES+=("$mode (round $round): audit state NOT as found after it stopped")
            fi
        fi
        log "round $round, $mode: $(tail -n 1 <<<"${RESULT[$mode]%$'\n'}") (getpid ns, open+close ns, fork+exec/s, make s)"
    done
done

# column N — field N of every round of a mode's results (stdin), one per line
column() { awk -v n="$1" 'NF {print $n}'; }
# median_spread — "median (min–max)" of the numbers on stdin; median_of — the median alone
median_of() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
median_spread() {
    sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "%g (%g–%g)", m, v[1], v[NR]}'
}
base_mode=none
[[ -n ${RESULT[none]:-} ]] || base_mode=${MODES%% *}
declare -a BASE
for n in 1 2 3 4; do BASE[n]=$(column "$n" <<<"${RESULT[$base_mode]}" | median_of); done
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.1f%%", (a - b) / b * 100}'; }
echo
echo "== bench-host-tax: what capturing execs costs other programs ($(nproc) cores, shared; kernel $(uname -r)) =="
echo "   median over $ROUNDS interleaved rounds (min–max), change of the median from $base_mode"
printf '| %-14s | %-28s | %-28s | %-30s | %-28s | %-16s |\n' "host runs" "getpid (ns)" "open+close (ns)" \
    "fork+exec (/s)" "make -j2 (s)" "load averages"
printf '|%s|%s|%s|%s|%s|%s|\n' "----------------" "------------------------------" "------------------------------" \
    "--------------------------------" "------------------------------" "------------------"
for mode in $MODES; do
    cells=()
    for n in 1 2 3 4; do
        values=$(column "$n" <<<"${RESULT[$mode]}")
        cells+=("$(median_spread <<<"$values") $(pct "$(median_of <<<"$values")" "${BASE[n]}")")
    done
    printf '| %-14s | %-28s | %-28s | %-30s | %-28s | %-16s |\n' "$mode" "${cells[@]}" "${LOAD[$mode]% }"
done
if [[ -n ${PROBE[ebpf]:-} ]]; then
    echo
    echo "ebpf: the probe's own time per exec (kernel.bpf_stats_enabled run_time_ns / run_cnt) and the agent's CPU per exec, median (min–max) over the rounds:"
    echo "  probe:  $(column 1 <<<"${PROBE[ebpf]}" | median_spread) ns per exec"
    echo "  agent:  $(column 2 <<<"${PROBE[ebpf]}" | median_spread) us of CPU per exec (all its threads, /proc/PID/task/*/schedstat)"
fi
echo
if ((STATE_RECORDED)); then
    echo "host audit state checks after each stopped:"
    for n in "${STATE_NOTES[@]}"; do echo "  $n"; done
else
    echo "audit untouched: no audit mode in BENCH_MODES"
fi
echo "kernel.bpf_stats_enabled put back to $BPF_STATS_FOUND (now $(sysctl -n kernel.bpf_stats_enabled))"
echo "commands:"
printf '%s\n' "${COMMANDS[@]}" | sort -u | sed 's/^/  /'
