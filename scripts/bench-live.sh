#!/usr/bin/env bash
# bench-live.sh — live cost benchmark: CPU and memory of execwatch (ebpf, audit unicast) vs auditd
# alone vs auditd with laurel, while a load generator execs /bin/true at fixed rates on this host.
#
# What it does:
#   1. Compiles the shared C load generator scripts/lib/exec-load.c (gcc, into a temp dir):
#      `exec-load RATE SECONDS` posix_spawns /bin/true (empty environment) RATE times per second
#      for SECONDS seconds, on absolute CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME,
#      start + i/RATE: a late launch does not shift later ones), reaps its children as it goes and
#      prints how many it launched (and how many launches were more than one period late).
#      The rate `max` runs it as fast as it can (RATE 0: up to 4 children at a time).
#   2. Builds execwatch in release mode (`swift build -c release --product execwatch`) unless
#      BENCH_SKIP_BUILD=1, and copies the binary to the temp dir (a concurrent rebuild cannot swap
#      it mid-run). BENCH_BIN: use that binary instead (e.g. the packages' static release build,
#      .build-static/release/execwatch), no build.
#   3. Takes the audit lock (flock /run/lock/execwatch-audit-tests.lock, held until exit: the
#      project's live tests use kernel audit too), refuses if an audit daemon is registered or
#      rules with the bench key are loaded, and records `auditctl -s` (enabled, pid, backlog_limit,
#      backlog_wait_time) and `auditctl -l`.
#   4. For each rate (BENCH_RATES, default "200 500 1000 max") and each tool, starts the tool fresh,
#      lets it go idle, runs `exec-load RATE BENCH_SECONDS` (default 20 s), waits until the tool is
#      idle again (its backlog processed: < 2 ticks of CPU per 0.5 s, at most 20 s), then stops it:
#        (e) execwatch run --source ebpf (metrics off): the probe on sched_process_exec; audit is
#            not touched (checked after the run like the others);
#        (a) execwatch run --source audit-unicast (EXECWATCH_METRICS_LISTEN=off,
#            EXECWATCH_AUDIT_KEY=BENCH_KEY): the agent registers as audit daemon, sets backlog_limit
#            8192 / backlog_wait_time 0 and installs its own b64+b32 execve,execveat rules;
#        (b) auditd alone: `auditd -n -s enable -c TMPDIR` with a full temporary auditd.conf
#            (Debian's values: log_format = ENRICHED, flush = INCREMENTAL_ASYNC, freq = 50,
#            q_depth = 2000; log to a temp file; empty plugin dir), plus the rules execwatch
#            installs: -a always,exit -F arch=b64|b32 -S execve,execveat -k BENCH_KEY, and the
#            backlog settings execwatch uses (-b 8192 --backlog_wait_time 0);
#        (c) the same auditd with laurel as its only plugin (path /usr/sbin/laurel, format
#            string, like Debian's /etc/audit/plugins.d/laurel.conf) and a temp copy of the
#            installed /etc/laurel/config.toml with only `directory` (a temp dir) changed, and the
#            log rotation size raised to 1 GB so no output is rotated away before it is counted;
#            laurel drops privileges to _laurel as shipped (when that user exists; otherwise the
#            `user` line is removed and laurel stays root).
#      CPU: utime+stime (all threads) from /proc/PID/stat, delta from just before the load to the
#      end of the idle wait, divided by the load's duration = "% of one core" while the load
#      ran (the tail of queued work is included). Peak RSS: VmHWM from /proc/PID/status at the
#      end (peak since the daemon started; each run starts a fresh daemon). For (c) CPU is auditd
#      + laurel, RSS is shown per process and summed.
#      Events seen / lost:
#        execwatch (both sources): delta of `status --json` `events` (ALL execs on the host, so it
#          includes other processes' execs — "other" = events − launched, must be >= 0); lost =
#          deltas of the agent's kernelLost, agentDrops and sequenceGaps from the baseline status
#          read once the source runs (`sourceRunning`; the agent reports the kernel's counter from
#          its set-up on, so a counter since boot is never taken for loss) to a status read > 5 s
#          after the load (the agent's periodic kernel status read is then fresh). For audit the
#          kernel's own `lost` delta (auditctl -s) is shown beside it: the same counter.
#        auditd / laurel: /usr/bin/true exec events in the temp audit.log (SYSCALL records with
#          the bench key and exe="/usr/bin/true") / in laurel's JSON log (lines with an EXECVE
#          part and "exe":"/usr/bin/true"); missing = launched − seen; plus the kernel lost delta.
#      With BENCH_RULES=both each execwatch tool runs twice at each rate: with the shipped rules
#      (netcat) and again with the shipped rules plus the Sigma corpus ($SIGMA_RULES, default
#      ../shared/corpora/sigma/rules beside the repository): rows "… + sigma", and the CPU ratio
#      "+ sigma / netcat alone" (goal <= 1.5x). BENCH_RULES=sigma runs only the "+ sigma" rows.
#   5. Prints one table per rate, execwatch's CPU as a fraction of auditd alone and of
#      auditd+laurel, and the goals: audit-unicast CPU <= 0.2x auditd alone (at every rate), ebpf
#      CPU <= 0.1x auditd alone at 1000/s, peak RSS <= 30 MB (MB = 10^6 bytes), no event lost at
#      1000/s (audit-unicast; at the highest fixed rate when 1000 is not among BENCH_RATES) and at
#      the max rate (ebpf).
#
# Host hygiene: on exit (trap EXIT, also on error or Ctrl-C) it stops what it started (by pid),
# deletes only rules with BENCH_KEY (`auditctl -D -k BENCH_KEY`), puts back enabled,
# backlog_limit and backlog_wait_time as found, then compares `auditctl -s` (enabled, pid,
# backlog_limit, backlog_wait_time) and `auditctl -l` with the recorded state and fails loudly if
# they differ. After every run it also checks (and reports) that the tool itself left the state
# as found before the cleanup touches anything.
#
# Noise: other processes on the host (2 shared cores) exec too; every tool sees and processes
# those execs as well. The "other" column shows how many execwatch saw during its window.
#
# Exit status: 0 when every tool ran and the host audit state is as found (even if a goal is
# missed — it reports); 1 if a tool failed to start or run, the build failed, or the audit state
# could not be restored.
#
# Environment: BENCH_RATES ("200 500 1000 max"), BENCH_SECONDS (20), BENCH_SKIP_BUILD (unset),
#              BENCH_BIN (unset), BENCH_KEY (execwatch-bench), BENCH_TOOLS ("ebpf execwatch
#              auditd laurel"; execwatch = audit-unicast), BENCH_RULES (netcat; sigma, both),
#              SIGMA_RULES (../shared/corpora/sigma/rules beside the repository),
#              BENCH_KEEP_WORK=1 (keep the temp dir with logs for debugging).
# Needs root (kernel audit). Installs missing packages (gcc, auditd, laurel, jq) with apt-get.
set -euo pipefail

SCRIPT_START=$EPOCHREALTIME
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RATES=${BENCH_RATES:-200 500 1000 max}
SECONDS_PER_RATE=${BENCH_SECONDS:-20}
KEY=${BENCH_KEY:-execwatch-bench}
TOOLS=${BENCH_TOOLS:-ebpf execwatch auditd laurel}
RULE_SETS=${BENCH_RULES:-netcat}
SIGMA_RULES=${SIGMA_RULES:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/corpora/sigma/rules}
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
HOST_NAME=bench

log() { printf '[bench-live] %s\n' "$*" >&2; }
die() { printf '[bench-live] ERROR: %s\n' "$*" >&2; exit 1; }
cmd() { printf '[bench-live] $ %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (kernel audit)"
for r in $RATES; do [[ $r == max || ($r =~ ^[0-9]+$ && $r -gt 0) ]] || die "BENCH_RATES must be positive integers or max, got '$RATES'"; done
[[ $SECONDS_PER_RATE =~ ^[0-9]+$ && $SECONDS_PER_RATE -gt 0 ]] || die "BENCH_SECONDS must be a positive integer"
[[ $KEY =~ ^[A-Za-z0-9_.-]+$ ]] || die "BENCH_KEY must be [A-Za-z0-9_.-]+"
for t in $TOOLS; do [[ $t == ebpf || $t == execwatch || $t == auditd || $t == laurel ]] || die "unknown tool '$t' in BENCH_TOOLS"; done
[[ $RULE_SETS == netcat || $RULE_SETS == sigma || $RULE_SETS == both ]] || die "BENCH_RULES must be netcat, sigma or both, got '$RULE_SETS'"
if [[ $RULE_SETS != netcat ]]; then
    [[ -d $SIGMA_RULES ]] || die "no Sigma rules at $SIGMA_RULES (set SIGMA_RULES to a directory of SigmaHQ rules)"
    # Each execwatch tool T gets a row "T+sigma" (the shipped rules and the corpus) after its own.
    with_sigma=()
    for t in $TOOLS; do
        if [[ $t == ebpf || $t == execwatch ]]; then
            [[ $RULE_SETS == both ]] && with_sigma+=("$t")
            with_sigma+=("$t+sigma")
        else
            with_sigma+=("$t")
        fi
    done
    TOOLS=${with_sigma[*]}
fi

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
"$REPO/scripts/install-deps.sh" bench || die "cannot install what the benchmark needs"
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/execwatch-bench-live.XXXXXX")
chmod 755 "$WORK"   # laurel (as _laurel) must reach its directory below it

# ---------------------------------------------------------------------------------------------
# 1. Load generator
# ---------------------------------------------------------------------------------------------
cmd "gcc -O2 -Wall -o $WORK/exec-load $REPO/scripts/lib/exec-load.c"
gcc -O2 -Wall -o "$WORK/exec-load" "$REPO/scripts/lib/exec-load.c" || die "gcc failed"
LOADGEN=$WORK/exec-load

# ---------------------------------------------------------------------------------------------
# 2. execwatch
# ---------------------------------------------------------------------------------------------
if [[ $TOOLS == *execwatch* || $TOOLS == *ebpf* ]] && [[ -n ${BENCH_BIN:-} ]]; then
    [[ -x $BENCH_BIN ]] || die "BENCH_BIN=$BENCH_BIN is not an executable"
    cp "$BENCH_BIN" "$WORK/execwatch"
    EXECWATCH=$WORK/execwatch
    log "execwatch: $BENCH_BIN (copied to $EXECWATCH), built $(date -r "$BENCH_BIN" '+%F %T')"
elif [[ $TOOLS == *execwatch* || $TOOLS == *ebpf* ]]; then
    if [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
        cmd "(cd $REPO && swift build -c release --product execwatch)"
        (cd "$REPO" && swift build -c release --product execwatch) >"$WORK/build.log" 2>&1 || {
            tail -n 40 "$WORK/build.log" >&2
            die "swift build failed"
        }
    fi
    BIN_DIR=$(cd "$REPO" && swift build -c release --show-bin-path)
    [[ -x $BIN_DIR/execwatch ]] || die "no execwatch binary at $BIN_DIR/execwatch (build it, or unset BENCH_SKIP_BUILD)"
    cp "$BIN_DIR/execwatch" "$WORK/execwatch"
    EXECWATCH=$WORK/execwatch
    log "execwatch: $BIN_DIR/execwatch (copied to $EXECWATCH), built $(date -r "$BIN_DIR/execwatch" '+%F %T')"
fi

# ---------------------------------------------------------------------------------------------
# 3. Audit lock, recorded state, cleanup
# ---------------------------------------------------------------------------------------------
# shellcheck source=lib/host-audit.sh
source "$REPO/scripts/lib/host-audit.sh"
# shellcheck source=lib/temporary-auditd.sh
source "$REPO/scripts/lib/temporary-auditd.sh"

# ---------------------------------------------------------------------------------------------
# Measurement helpers (no process is started inside a measured window except the load itself)
# ---------------------------------------------------------------------------------------------
TICKS=0
read_ticks() { # read_ticks PID... — sets TICKS = sum of utime+stime (clock ticks)
    local pid line rest f
    TICKS=0
    for pid in "$@"; do
        read -r line <"/proc/$pid/stat"
        rest=${line##*) }
        read -r -a f <<<"$rest"
        TICKS=$((TICKS + f[11] + f[12]))   # fields 14 and 15 of stat
    done
}
hwm_kb() { # hwm_kb PID — VmHWM in kB
    local k v _
    while read -r k v _; do [[ $k == VmHWM: ]] && { echo "$v"; return; }; done <"/proc/$1/status"
    echo 0
}
# wait_idle PID... — waits until the processes use < 2 ticks in 0.5 s (min 1 s, max 20 s);
# sets IDLE_WAIT_S.
wait_idle() {
    local start=$EPOCHREALTIME prev now waited
    read_ticks "$@"; prev=$TICKS
    while true; do
        sleep 0.5
        read_ticks "$@"; now=$TICKS
        waited=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
        if ((now - prev < 2)) && awk -v w="$waited" 'BEGIN{exit !(w >= 1)}'; then break; fi
        if awk -v w="$waited" 'BEGIN{exit !(w >= 20)}'; then log "still busy after 20 s, measuring anyway"; break; fi
        prev=$now
    done
    IDLE_WAIT_S=$waited
}
kernel_lost() { audit_field lost; }
# check_state_restored TOOL — after a tool stopped: is the audit state as recorded?
STATE_NOTES=()
check_state_restored() {
    local now
    now=$(audit_state)
    if [[ $now == "$BEFORE_STATE" ]]; then
        STATE_NOTES+=("$1: audit state as found after it stopped")
    else
        STATE_NOTES+=("$1: audit state NOT as found after it stopped: $(diff <(echo "$BEFORE_STATE") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')")
    fi
}

load_rate() { [[ $1 == max ]] && echo 0 || echo "$1"; } # exec-load's RATE: 0 is as fast as it can

# run_load RATE — runs the load generator, sets LOAD_* from its summary line
run_load() {
    local out rc=0
    out=$("$LOADGEN" "$(load_rate "$1")" "$SECONDS_PER_RATE") || rc=$?
    ((rc == 0)) || { log "exec-load exited $rc: $out"; return 1; }
    LOAD_LINE=$out
    LOAD_LAUNCHED=$(sed -nE 's/.*launched=([0-9]+).*/\1/p' <<<"$out")
    LOAD_ELAPSED=$(sed -nE 's/.*elapsed_s=([0-9.]+).*/\1/p' <<<"$out")
    LOAD_LATE=$(sed -nE 's/.* late=([0-9]+).*/\1/p' <<<"$out")
}

# Results, one row per (rate, tool): R_<field>[rate:tool]
declare -A R_CPU R_PCT R_RSS R_SEEN R_LOST R_NOTE R_LAUNCHED R_ELAPSED R_TAIL R_LATE R_LOSTN R_RSS_PARTS R_CPU_PARTS
FAILED=0
COMMANDS=()

# ---------------------------------------------------------------------------------------------
# (a) execwatch
# ---------------------------------------------------------------------------------------------
ew_fields() { # events failedExecs kernelLost agentDrops sequenceGaps malformedRecords residentBytes
    jq -r '[.events, .failedExecs, .kernelLost, .agentDrops, .sequenceGaps, .malformedRecords, .residentBytes] | @tsv'
}

bench_execwatch() { # bench_execwatch RATE TOOL (execwatch: audit-unicast, ebpf: ebpf; +sigma: with the corpus)
    local rate=$1 tool=$2 source=audit-unicast label="(a) " pid i s0 s1 k0 k1 t0 t1 load_end
    [[ ${tool%+sigma} == ebpf ]] && source=ebpf label="(e) "
    local AGENT_RULES=$REPO/rules
    if [[ $tool == *+sigma ]]; then
        AGENT_RULES="$REPO/rules $SIGMA_RULES"
        label="${label%) }+sigma) "
    fi
    local dir=$WORK/$tool-$rate
    local lost_at_start
    lost_at_start=$(kernel_lost)
    start_agent "$source" "$dir" "$dir/agent.sock" "$dir/agent.log" "$label" || true
    pid=$AGENT_PID
    if ! ew_status "$dir/agent.sock" >/dev/null || [[ $(ew_status "$dir/agent.sock" | jq -r .source) != "$source" ]] ||
        [[ $source == audit-unicast && $(audit_field pid) != "$pid" ]]; then
        log "execwatch did not start in $source (or did not register as audit daemon):"; tail -n 20 "$dir/agent.log" >&2
        stop_pid "$pid" || true
        return 1
    fi
    wait_idle "$pid"
    # The baseline: read once the source runs (start_agent waited for it), so kernelLost is the
    # figure the source set up with (audit: the kernel's counter since boot; ebpf: 0). An agent
    # that reports the kernel's counter only from its first periodic read (older ones, after 5 s)
    # is waited for: the counter never goes down, so until then kernelLost < lost_at_start.
    if [[ $source == audit-unicast ]]; then
        for ((i = 0; i < 100; i++)); do
            (($(ew_status "$dir/agent.sock" | jq -r .kernelLost) >= lost_at_start)) && break
            sleep 0.1
        done
    fi
    s0=$(ew_status "$dir/agent.sock" | ew_fields)
    k0=$(kernel_lost)
    read_ticks "$pid"; t0=$TICKS
    cmd "$LOADGEN $rate $SECONDS_PER_RATE"
    run_load "$rate" || { stop_pid "$pid" || true; return 1; }
    load_end=$EPOCHREALTIME
    wait_idle "$pid"
    read_ticks "$pid"; t1=$TICKS
    local hwm
    hwm=$(hwm_kb "$pid")
    # the agent reads the kernel's status every 5 s: make sure one read happened after the load
    sleep "$(awk -v a="$load_end" -v b="$EPOCHREALTIME" 'BEGIN{d = 5.5 - (b - a); print (d > 0 ? d : 0)}')"
    s1=$(ew_status "$dir/agent.sock" | ew_fields)
    k1=$(kernel_lost)
    local rc=0
    stop_pid "$pid" || rc=$?
    ((rc == 0)) || { log "execwatch exited $rc:"; tail -n 20 "$dir/agent.log" >&2; FAILED=1; }
    check_state_restored "execwatch $source ($rate/s)"

    local e0 f0 kl0 d0 g0 m0 e1 f1 kl1 d1 g1 m1 rb1
    read -r e0 f0 kl0 d0 g0 m0 _ <<<"$s0"
    read -r e1 f1 kl1 d1 g1 m1 rb1 <<<"$s1"
    local key="$rate:$tool" seen=$((e1 - e0)) other lost
    other=$((seen - LOAD_LAUNCHED))
    lost=$(((kl1 - kl0) + (d1 - d0) + (g1 - g0)))
    ((other >= 0)) || lost=$((lost - other))
    R_CPU[$key]=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t/hz}')
    R_PCT[$key]=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v e="$LOAD_ELAPSED" 'BEGIN{printf "%.1f", 100*t/hz/e}')
    R_RSS[$key]=$hwm
    R_SEEN[$key]=$seen
    R_LOSTN[$key]=$lost
    R_LOST[$key]="$lost (agent kernelLost +$((kl1 - kl0)) from its baseline $kl0, agentDrops +$((d1 - d0)), sequenceGaps +$((g1 - g0)); the kernel's audit lost +$((k1 - k0)) by auditctl -s)"
    R_NOTE[$key]="events $seen = launched $LOAD_LAUNCHED + other $other; failedExecs +$((f1 - f0)), malformedRecords +$((m1 - m0)); status residentBytes $(awk -v b="$rb1" 'BEGIN{printf "%.1f MB", b/1e6}')"
    R_LAUNCHED[$key]=$LOAD_LAUNCHED R_ELAPSED[$key]=$LOAD_ELAPSED R_TAIL[$key]=$IDLE_WAIT_S R_LATE[$key]=$LOAD_LATE
}

# ---------------------------------------------------------------------------------------------
# (b)/(c) auditd, optionally with laurel
# ---------------------------------------------------------------------------------------------
bench_auditd() { # bench_auditd RATE with_laurel(0|1)
    local rate=$1 with_laurel=$2 name=auditd
    ((with_laurel)) && name=laurel
    local dir=$WORK/$name-$rate pid lpid i t0 t1 k0 k1
    start_temporary_auditd "$dir" "$with_laurel" "($([[ $name == auditd ]] && echo b || echo c)) " || return 1
    pid=$AUDITD_PID lpid=$LAUREL_PID
    local pids=("$pid")
    [[ -n $lpid ]] && pids+=("$lpid")
    wait_idle "${pids[@]}"
    k0=$(kernel_lost)
    read_ticks "$pid"; local a0=$TICKS l0=0
    [[ -n $lpid ]] && { read_ticks "$lpid"; l0=$TICKS; }
    cmd "$LOADGEN $rate $SECONDS_PER_RATE"
    run_load "$rate" || { stop_temporary_auditd || true; return 1; }
    wait_idle "${pids[@]}"
    read_ticks "$pid"; local a1=$TICKS l1=0
    [[ -n $lpid ]] && { read_ticks "$lpid"; l1=$TICKS; }
    local ahwm lhwm=0
    ahwm=$(hwm_kb "$pid")
    [[ -n $lpid ]] && lhwm=$(hwm_kb "$lpid")
    k1=$(kernel_lost)
    local rc=0
    stop_temporary_auditd || rc=$?
    ((rc == 0)) || { log "auditd exited $rc:"; tail -n 20 "$dir/auditd.out" >&2; FAILED=1; }
    check_state_restored "$name ($rate/s, after auditctl -D -k $KEY, -b/--backlog_wait_time/-e as found)"

    local seen_a seen_l=0
    seen_a=$(cat "$dir"/audit.log* 2>/dev/null | LC_ALL=C grep -a '^type=SYSCALL ' \
             | LC_ALL=C grep -a "key=\"$KEY\"" | LC_ALL=C grep -ac 'exe="/usr/bin/true"' || true)
    if ((with_laurel)); then
        seen_l=$(cat "$dir"/laurel/audit.log* 2>/dev/null | LC_ALL=C grep -a '"EXECVE":{' \
                 | LC_ALL=C grep -ac '"exe":"/usr/bin/true"' || true)
    fi
    local key="$rate:$name" hz=$CLK_TCK e=$LOAD_ELAPSED
    local cpu_t=$(((a1 - a0) + (l1 - l0)))
    R_CPU[$key]=$(awk -v t=$cpu_t -v hz="$hz" 'BEGIN{printf "%.2f", t/hz}')
    R_PCT[$key]=$(awk -v t=$cpu_t -v hz="$hz" -v e="$e" 'BEGIN{printf "%.1f", 100*t/hz/e}')
    R_RSS[$key]=$((ahwm + lhwm))
    local miss_a=$((LOAD_LAUNCHED - seen_a)) miss_l=$((LOAD_LAUNCHED - seen_l))
    if ((with_laurel)); then
        R_SEEN[$key]="$seen_l"
        R_LOSTN[$key]=$(((k1 - k0) + (miss_l > 0 ? miss_l : 0)))
        R_LOST[$key]="$(((k1 - k0) + (miss_l > 0 ? miss_l : 0))) (kernel lost +$((k1 - k0)), missing in laurel log $miss_l, in audit.log $miss_a)"
        R_CPU_PARTS[$key]=$(awk -v a=$((a1 - a0)) -v l=$((l1 - l0)) -v hz="$hz" -v e="$e" \
            'BEGIN{printf "auditd %.2f s (%.1f%%) + laurel %.2f s (%.1f%%)", a/hz, 100*a/hz/e, l/hz, 100*l/hz/e}')
        R_RSS_PARTS[$key]=$(awk -v a="$ahwm" -v l="$lhwm" 'BEGIN{printf "auditd %.1f MB + laurel %.1f MB", a*1024/1e6, l*1024/1e6}')
        R_NOTE[$key]="seen = /usr/bin/true exec events in laurel's JSON log ($seen_l) / in auditd's log ($seen_a); $(stat -c %s "$dir"/laurel/audit.log | awk '{printf "laurel log %.1f MB", $1/1e6}')"
    else
        R_SEEN[$key]="$seen_a"
        R_LOSTN[$key]=$(((k1 - k0) + (miss_a > 0 ? miss_a : 0)))
        R_LOST[$key]="$(((k1 - k0) + (miss_a > 0 ? miss_a : 0))) (kernel lost +$((k1 - k0)), missing in audit.log $miss_a)"
        R_NOTE[$key]="seen = /usr/bin/true exec events (SYSCALL key=\"$KEY\") in auditd's log; $(stat -c %s "$dir"/audit.log | awk '{printf "audit.log %.1f MB", $1/1e6}')"
    fi
    R_LAUNCHED[$key]=$LOAD_LAUNCHED R_ELAPSED[$key]=$LOAD_ELAPSED R_TAIL[$key]=$IDLE_WAIT_S R_LATE[$key]=$LOAD_LATE
}

# ---------------------------------------------------------------------------------------------
# 4. Runs
# ---------------------------------------------------------------------------------------------
for rate in $RATES; do
    for tool in $TOOLS; do
        log "rate $rate/s: $tool"
        case $tool in
            execwatch | ebpf | execwatch+sigma | ebpf+sigma) bench_execwatch "$rate" "$tool" || { FAILED=1; log "$tool at $rate/s failed"; } ;;
            auditd) bench_auditd "$rate" 0 || { FAILED=1; log "auditd at $rate/s failed"; } ;;
            laurel) bench_auditd "$rate" 1 || { FAILED=1; log "auditd+laurel at $rate/s failed"; } ;;
        esac
    done
done

# ---------------------------------------------------------------------------------------------
# 5. Report
# ---------------------------------------------------------------------------------------------
label() { case $1 in ebpf) echo "execwatch (ebpf)" ;; execwatch) echo "execwatch (audit-unicast)" ;; ebpf+sigma) echo "execwatch (ebpf) + sigma" ;; execwatch+sigma) echo "execwatch (audit-unicast) + sigma" ;; auditd) echo "auditd alone" ;; laurel) echo "auditd + laurel" ;; esac; }
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k*1024/1e6}'; }

echo
echo "== execwatch live benchmark: /bin/true at fixed rates, $SECONDS_PER_RATE s per rate =="
echo "host:   $(nproc) cores (shared), kernel $(uname -r), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU % = utime+stime of the daemon(s) from just before the load until idle again, / load duration"
echo "        (100% = one core); peak RSS = VmHWM (MB = 10^6 bytes); each run starts the daemon fresh"
ALL_GOALS=1
HIGHEST=0
for rate in $RATES; do [[ $rate != max ]] && ((rate > HIGHEST)) && HIGHEST=$rate; done
LOSS_RATE=$HIGHEST
for rate in $RATES; do [[ $rate == 1000 ]] && LOSS_RATE=1000; done
MAX_EW_RSS=0
for rate in $RATES; do
    echo
    echo "-- $rate execs/s --$([[ $rate == max ]] && echo " (as fast as exec-load can: see launched)")"
    {
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' tool "CPU % of 1 core" "CPU s" "peak RSS MB" launched "events seen" lost "load s (late, tail s)"
        for tool in $TOOLS; do
            key="$rate:$tool"
            [[ -n ${R_CPU[$key]:-} ]] || { printf '%s\t%s\n' "$(label "$tool")" "FAILED"; continue; }
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(label "$tool")" "${R_PCT[$key]}" "${R_CPU[$key]}" "$(mb "${R_RSS[$key]}")" \
                "${R_LAUNCHED[$key]}" "${R_SEEN[$key]}" "${R_LOSTN[$key]}" "${R_ELAPSED[$key]} (${R_LATE[$key]}, ${R_TAIL[$key]})"
        done
    } | column -t -s $'\t'
    for tool in $TOOLS; do
        key="$rate:$tool"
        [[ -n ${R_CPU[$key]:-} ]] || continue
        echo "  $(label "$tool"): lost ${R_LOST[$key]}"
        echo "  $(label "$tool"): ${R_NOTE[$key]}"
        [[ -n ${R_CPU_PARTS[$key]:-} ]] && echo "  $(label "$tool"): CPU ${R_CPU_PARTS[$key]}; peak RSS ${R_RSS_PARTS[$key]}"
    done
    a="$rate:auditd" l="$rate:laurel"
    for tool in execwatch ebpf; do
        e="$rate:$tool"
        [[ -n ${R_CPU[$e]:-} ]] || continue
        ((R_RSS[$e] > MAX_EW_RSS)) && MAX_EW_RSS=${R_RSS[$e]}
        line="$(label "$tool") CPU ="
        if [[ -n ${R_CPU[$a]:-} ]]; then
            ratio=$(awk -v x="${R_CPU[$e]}" -v y="${R_CPU[$a]}" 'BEGIN{printf "%.2f", (y > 0 ? x/y : 999)}')
            if [[ $tool == execwatch ]]; then
                verdict=$(awk -v r="$ratio" 'BEGIN{print (r <= 0.2 ? "MET" : "MISSED")}')
                [[ $verdict == MET ]] || ALL_GOALS=0
                line+=" ${ratio}x auditd alone (goal <= 0.2x: $verdict)"
            elif [[ $rate == 1000 ]]; then
                verdict=$(awk -v r="$ratio" 'BEGIN{print (r <= 0.1 ? "MET" : "MISSED")}')
                [[ $verdict == MET ]] || ALL_GOALS=0
                line+=" ${ratio}x auditd alone (goal at 1000/s <= 0.1x: $verdict)"
            else
                line+=" ${ratio}x auditd alone"
            fi
        fi
        if [[ -n ${R_CPU[$l]:-} ]]; then
            ratio=$(awk -v x="${R_CPU[$e]}" -v y="${R_CPU[$l]}" 'BEGIN{printf "%.2f", (y > 0 ? x/y : 999)}')
            line+=", ${ratio}x auditd+laurel"
        fi
        echo "$line"
    done
    for tool in execwatch ebpf; do
        e="$rate:$tool" s="$rate:$tool+sigma"
        [[ -n ${R_CPU[$e]:-} && -n ${R_CPU[$s]:-} ]] || continue
        [[ -n ${R_RSS[$s]:-} ]] && ((R_RSS[$s] > MAX_EW_RSS)) && MAX_EW_RSS=${R_RSS[$s]}
        ratio=$(awk -v x="${R_CPU[$s]}" -v y="${R_CPU[$e]}" 'BEGIN{printf "%.2f", (y > 0 ? x/y : 999)}')
        verdict=$(awk -v r="$ratio" 'BEGIN{print (r <= 1.5 ? "MET" : "MISSED")}')
        [[ $verdict == MET ]] || ALL_GOALS=0
        echo "$(label "$tool+sigma") CPU = ${ratio}x $(label "$tool") with the netcat rule alone (${R_CPU[$s]} s vs ${R_CPU[$e]} s; goal <= 1.5x: $verdict)"
    done
done
echo
echo "goals:"
if [[ $TOOLS == *execwatch* || $TOOLS == *ebpf* ]]; then
    rss_mb=$(mb "$MAX_EW_RSS")
    v=$(awk -v m="$rss_mb" 'BEGIN{print (m <= 30 ? "MET" : "MISSED")}'); [[ $v == MET ]] || ALL_GOALS=0
    echo "  execwatch peak RSS (max over rates) $rss_mb MB <= 30 MB: $v"
    e="$LOSS_RATE:execwatch"
    if [[ -n ${R_LOSTN[$e]:-} ]]; then
        v=$([[ ${R_LOSTN[$e]} == 0 ]] && echo MET || echo MISSED); [[ $v == MET ]] || ALL_GOALS=0
        echo "  audit-unicast: no event lost at $LOSS_RATE/s: ${R_LOSTN[$e]} lost: $v"
    fi
    e="max:ebpf"
    if [[ -n ${R_LOSTN[$e]:-} ]]; then
        v=$([[ ${R_LOSTN[$e]} == 0 ]] && echo MET || echo MISSED); [[ $v == MET ]] || ALL_GOALS=0
        echo "  ebpf: no event lost at the max rate (${R_LAUNCHED[$e]} launched in ${R_ELAPSED[$e]} s): ${R_LOSTN[$e]} lost: $v"
    fi
    [[ $TOOLS == *auditd* ]] && echo "  audit-unicast CPU <= 0.2x auditd alone at every rate, ebpf <= 0.1x at 1000/s: see the per-rate lines above"
    [[ $RULE_SETS == both ]] && echo "  with the Sigma corpus loaded, CPU <= 1.5x the netcat rule alone at every rate: see the per-rate lines above"
fi
if ((ALL_GOALS)); then echo "goals: ALL MET"; else echo "goals: NOT ALL MET"; fi
echo
echo "host audit state checks after each tool stopped:"
for n in "${STATE_NOTES[@]}"; do echo "  $n"; done
echo
echo "commands:"
echo "  load: $LOADGEN RATE $SECONDS_PER_RATE   (source: scripts/lib/exec-load.c; RATE 0 for max)"
for c in "${COMMANDS[@]}"; do echo "  $c"; done
echo "  (b)/(c) rules: auditctl -a always,exit -F arch=b64 -S execve,execveat -k $KEY; same with arch=b32;" \
     "auditctl -b 8192 --backlog_wait_time 0"
echo "script run time: $(awk -v a="$SCRIPT_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}') s"

if ((FAILED)); then
    log "at least one tool failed"
    exit 1
fi
exit 0
