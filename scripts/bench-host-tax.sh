#!/usr/bin/env bash
# bench-host-tax.sh — what each way of capturing execs costs the host's *other* programs.
#
# A tiny C benchmark (gcc, into a temp dir) measures, on this host:
#   getpid      ns per call, best of 5 rounds of 2,000,000 calls (the bare system-call path)
#   open+close  ns per pair on /etc/hostname, best of 5 rounds of 200,000
#   fork+exec   /bin/true launched and reaped per second over BENCH_SECONDS (default 3)
# with: no agent; execwatch --source ebpf; --source audit-unicast; --source proc-connector.
# Each agent starts fresh (its probe attached / audit rules installed before measuring) and is
# stopped after. Prints one table, side by side, and the change from "no agent" in percent.
#
# Needs root. Takes the audit lock the tests use (/run/lock/execwatch-audit-tests.lock) for the
# whole run. BENCH_BIN: the execwatch binary (default: .build/release/execwatch, built with
# `swift build -c release --product execwatch` when missing). Other load on the host skews the
# figures: compare the rows of one run, not runs of different days.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RATE=${BENCH_SECONDS:-3}
KEY=execwatch-bench-tax
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
die() { echo "bench-host-tax: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run me as root (audit, eBPF)"
"$REPO/scripts/install-deps.sh" bench

BIN=${BENCH_BIN:-$REPO/.build/release/execwatch}
if [[ ! -x $BIN ]]; then
    (cd "$REPO" && swift build -c release --product execwatch) || die "release build failed"
fi
WORK=$(mktemp -d /tmp/execwatch-bench-tax.XXXXXX)
AGENT_PID=
cleanup() {
    [[ -n $AGENT_PID ]] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
cp "$BIN" "$WORK/execwatch"

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

exec 9>"$LOCK_PATH"
flock 9
! auditctl -l | grep -q -- "key=$KEY\$" || die "rules with key $KEY are already loaded: auditctl -D -k $KEY"

start_agent() { # start_agent SOURCE — waits until the source is set up
    local dir=$WORK/$1
    mkdir -p "$dir"
    EXECWATCH_METRICS_LISTEN=off EXECWATCH_AUDIT_KEY=$KEY "$WORK/execwatch" run --source "$1" --state-dir "$dir" \
        --status-socket "$dir/agent.sock" --rules "$REPO/rules" >"$dir/agent.log" 2>&1 &
    AGENT_PID=$!
    for ((i = 0; i < 300; i++)); do
        # Logged on the capture thread once the source is set up (probe attached, rules in).
        grep -q "privileges dropped" "$dir/agent.log" && return 0
        kill -0 "$AGENT_PID" 2>/dev/null || die "agent ($1) exited: $(cat "$dir/agent.log")"
        sleep 0.1
    done
    die "agent ($1) not set up in 30 s: $(cat "$dir/agent.log")"
}
stop_agent() {
    kill -TERM "$AGENT_PID"
    wait "$AGENT_PID" || die "agent exit status $?"
    AGENT_PID=
}

declare -A RESULT
for mode in none ebpf audit-unicast proc-connector; do
    [[ $mode == none ]] || start_agent "$mode"
    sleep 1
    RESULT[$mode]=$("$WORK/tax" "$SECONDS_PER_RATE")
    [[ $mode == none ]] || stop_agent
    echo "bench-host-tax: $mode: ${RESULT[$mode]}" >&2
done

read -r base_getpid base_open base_rate <<<"${RESULT[none]}"
printf '\n| %-16s | %-18s | %-18s | %-18s |\n' "execwatch" "getpid (ns)" "open+close (ns)" "fork+exec (/s)"
printf '|%s|%s|%s|%s|\n' "------------------" "--------------------" "--------------------" "--------------------"
for mode in none ebpf audit-unicast proc-connector; do
    read -r g o r <<<"${RESULT[$mode]}"
    pct() { python3 -c "print(f'{($1 - $2) / $2 * 100:+.0f}%')"; }
    printf '| %-16s | %-18s | %-18s | %-18s |\n' "$mode" "$g ($(pct "$g" "$base_getpid"))" \
        "$o ($(pct "$o" "$base_open"))" "$r ($(pct "$r" "$base_rate"))"
done
