#!/usr/bin/env bash
# bench-memory.sh — memory under hostile load: peak RSS of execwatch (audit unicast) while an
# unprivileged local user execs /bin/true with distinct 100 KiB arguments, each in its own group of
# a `COUNT(*) >= 5` rule grouped by swParam (no group ever triggers: every one is kept open).
#
# What it does:
#   1. Compiles the shared C load generator scripts/lib/exec-load.c (gcc, into a temp dir):
#      `exec-load RATE SECONDS BYTES` posix_spawns /bin/true with one argument of BYTES bytes,
#      distinct for every exec (a counter in its first bytes), RATE times per second on absolute
#      CLOCK_MONOTONIC deadlines, or with RATE 0 as fast as it can (up to 4 children at once);
#      prints how many it launched.
#   2. Builds execwatch in release mode (`swift build -c release --product execwatch`) unless
#      BENCH_SKIP_BUILD=1, and copies the binary to the temp dir.
#   3. Takes the audit lock and records the host's audit state (scripts/lib/host-audit.sh, which
#      puts it back on exit and checks it).
#   4. Writes the rule to a temp rules dir; for each phase (BENCH_RATES, default "max 200 1000";
#      "max" = as fast as possible) starts a fresh agent (start_agent: audit unicast, metrics off,
#      its own audit key) with that rules dir and the default budgets (or EXECWATCH_ENGINE_MAX_BYTES
#      / EXECWATCH_REASSEMBLY_MAX_BYTES from the environment), runs the load as user nobody
#      (setpriv) for BENCH_SECONDS (default 8), samples the agent's VmRSS every 100 ms until it is
#      idle again, and reads its status.
#   5. Prints per phase: execs done and their rate, events seen, lost (the kernel's lost counter
#      delta from auditctl -s + the agent's agentDrops and sequenceGaps deltas), peak RSS (max sampled VmRSS and VmHWM) next
#      to the budgets, the bytes the engine and the reassembler hold at the end, and evictions
#      (groupsEvicted, engine bytes evicted, pendingExecsEvicted).
#
# Exit status: 0 when every phase ran and the audit state is as found; 1 otherwise. It reports
# peak RSS against BENCH_RSS_GOAL_MB (default 100) without failing on it.
# Needs root (kernel audit). Installs missing packages with scripts/install-deps.sh bench.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PHASES=${BENCH_RATES:-max 200 1000}
SECONDS_PER_PHASE=${BENCH_SECONDS:-8}
ARG_BYTES=${BENCH_ARG_BYTES:-102400}
KEY=${BENCH_KEY:-execwatch-bench-memory}
RSS_GOAL_MB=${BENCH_RSS_GOAL_MB:-100}
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
HOST_NAME=bench

log() { printf '[bench-memory] %s\n' "$*" >&2; }
die() { printf '[bench-memory] ERROR: %s\n' "$*" >&2; exit 1; }
cmd() { printf '[bench-memory] $ %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (kernel audit)"
for p in $PHASES; do [[ $p == max || $p =~ ^[1-9][0-9]*$ ]] || die "BENCH_RATES: 'max' or positive integers, got '$p'"; done
[[ $SECONDS_PER_PHASE =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $ARG_BYTES =~ ^[1-9][0-9]*$ && $ARG_BYTES -ge 21 && $ARG_BYTES -le 131071 ]] || die "BENCH_ARG_BYTES: 21…131071 (a 20-byte counter; the kernel's limit per argument)"
[[ $KEY =~ ^[A-Za-z0-9_.-]+$ ]] || die "BENCH_KEY must be [A-Za-z0-9_.-]+"

"$REPO/scripts/install-deps.sh" bench || die "cannot install what the benchmark needs"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/execwatch-bench-memory.XXXXXX")
chmod 755 "$WORK"

# ---------------------------------------------------------------------------------------------
# 1. Load generator
# ---------------------------------------------------------------------------------------------
cmd "gcc -O2 -Wall -o $WORK/exec-load $REPO/scripts/lib/exec-load.c"
gcc -O2 -Wall -o "$WORK/exec-load" "$REPO/scripts/lib/exec-load.c" || die "gcc failed"
chmod 755 "$WORK/exec-load"

# ---------------------------------------------------------------------------------------------
# 2. execwatch
# ---------------------------------------------------------------------------------------------
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
log "execwatch: $BIN_DIR/execwatch, built $(date -r "$BIN_DIR/execwatch" '+%F %T')"

# The rule: every distinct argument is its own group, which needs 5 events to trigger.
AGENT_RULES=$WORK/rules
mkdir -p "$AGENT_RULES"
cat >"$AGENT_RULES/bench-memory.xml" <<'EOF'
<Rules>
  <Rule group="Bench" id="Bench_Memory_1" phIncidentCategory="Server" function="Security" subFunction="Execution" technique="T1059.004">
    <Name>Bench: the same arguments five times</Name>
    <active>true</active>
    <Description>Groups by swParam: a load with distinct arguments opens one group per exec.</Description>
    <IncidentDef eventType="PH_RULE_BENCH_MEMORY_1" severity="3">
      <ArgList>hostName = Filter.hostName, swParam = Filter.swParam</ArgList>
    </IncidentDef>
    <PatternClause window="300">
      <SubPattern displayName="Filter" name="Filter">
        <SingleEvtConstr>eventType = "LINUX_PROCESS_EXEC" AND procName = "true"</SingleEvtConstr>
        <GroupByAttr>hostName, swParam</GroupByAttr>
        <GroupEvtConstr>COUNT(*) &gt;= 5</GroupEvtConstr>
      </SubPattern>
    </PatternClause>
  </Rule>
</Rules>
EOF
"$EXECWATCH" rules check "$AGENT_RULES/bench-memory.xml" >/dev/null || die "the bench rule does not load"

# ---------------------------------------------------------------------------------------------
# 3. Audit lock, recorded state, cleanup (start_agent, stop_pid, ew_status come from here)
# ---------------------------------------------------------------------------------------------
# shellcheck source=lib/host-audit.sh
source "$REPO/scripts/lib/host-audit.sh"

rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '$1 == "VmHWM:" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
ticks() { local line rest f; read -r line <"/proc/$1/stat"; rest=${line##*) }; read -r -a f <<<"$rest"; echo $((f[11] + f[12])); }
field() { jq -r ".$1 // 0" <<<"$2"; }

declare -a ROWS=()
FAILED=0
COMMANDS=()
BUDGETS=""

run_phase() {
    local phase=$1 rate dir=$WORK/agent-$1 pid s0 s1 k0 k1 out
    rate=$([[ $phase == max ]] && echo 0 || echo "$phase")
    start_agent audit-unicast "$dir" "$dir/agent.sock" "$dir/agent.log" "($phase) " || true
    pid=$AGENT_PID
    if ! ew_status "$dir/agent.sock" >/dev/null; then
        log "execwatch did not start:"; tail -n 20 "$dir/agent.log" >&2
        stop_pid "$pid" || true
        return 1
    fi
    sleep 1
    s0=$(ew_status "$dir/agent.sock")
    k0=$(audit_field lost)
    rm -f "$WORK/load-done" "$WORK/peak-kb"
    sample_until_idle "$pid" &
    local sampler=$!
    cmd "setpriv --reuid=nobody --regid=nogroup --clear-groups $WORK/exec-load $rate $SECONDS_PER_PHASE $ARG_BYTES"
    out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$WORK/exec-load" "$rate" "$SECONDS_PER_PHASE" "$ARG_BYTES") \
        || log "exec-load: $out"
    touch "$WORK/load-done"
    # The sampler runs in a subshell: it writes its peak where this shell can read it.
    wait "$sampler" || true
    local peak_kb
    peak_kb=$(cat "$WORK/peak-kb" 2>/dev/null || echo 0)
    sleep 5.5   # the agent reads the kernel's lost counter every 5 s
    s1=$(ew_status "$dir/agent.sock")
    k1=$(audit_field lost)
    local hwm
    hwm=$(hwm_kb "$pid")
    stop_pid "$pid" || { log "execwatch exited with an error:"; tail -n 20 "$dir/agent.log" >&2; FAILED=1; }

    local launched elapsed seen lost
    launched=$(sed -nE 's/.*launched=([0-9]+).*/\1/p' <<<"$out")
    elapsed=$(sed -nE 's/.*elapsed_s=([0-9.]+).*/\1/p' <<<"$out")
    seen=$(($(field events "$s1") - $(field events "$s0")))
    local kl=$(($(field kernelLost "$s1") - $(field kernelLost "$s0"))) drops=$(($(field agentDrops "$s1") - $(field agentDrops "$s0")))
    local gaps=$(($(field sequenceGaps "$s1") - $(field sequenceGaps "$s0")))
    # The agent's kernelLost is the kernel's own counter (since boot), read every 5 s: the delta of
    # `auditctl -s` taken around the load is the same figure, exactly; it is not added twice.
    lost=$(((k1 - k0) + drops + gaps))
    LOST_NOTES+=("$phase: lost $lost = kernel lost +$((k1 - k0)) (status kernelLost moved +$kl), agentDrops +$drops, sequenceGaps +$gaps; malformedRecords +$(($(field malformedRecords "$s1") - $(field malformedRecords "$s0")))")
    BUDGETS="engine.maxBytes $(($(field engineMaxBytes "$s1") >> 20)) MiB, reassembly.maxBytes $(($(field reassemblyMaxBytes "$s1") >> 20)) MiB"
    ROWS+=("$(printf '%-5s %8s %7.0f %8s %6s %9.1f %9.1f %8.1f %8.1f %9s %10.0f %9s' \
        "$phase" "${launched:-0}" "$(awk -v l="${launched:-0}" -v e="${elapsed:-1}" 'BEGIN{print l/e}')" "$seen" "$lost" \
        "$(awk -v k="$peak_kb" 'BEGIN{print k/1024}')" "$(awk -v k="$hwm" 'BEGIN{print k/1024}')" \
        "$(awk -v b="$(field engineBytes "$s1")" 'BEGIN{print b/1048576}')" \
        "$(awk -v b="$(field reassemblyBytes "$s1")" 'BEGIN{print b/1048576}')" \
        "$(field groupsEvicted "$s1")" "$(awk -v b="$(field engineEvictedBytes "$s1")" 'BEGIN{print b/1048576}')" \
        "$(field pendingExecsEvicted "$s1")")")
    PEAKS+=("$hwm")
}

PEAKS=()
LOST_NOTES=()
# sample_until_idle PID — in the background: samples VmRSS every 0.1 s until the load is done
# (LOAD_DONE file) and the agent is idle again (< 2 ticks in 0.5 s, at least 1 s, at most 30 s);
# leaves the peak (kB) in $WORK/peak-kb.
sample_until_idle() {
    local pid=$1 rss prev now n=0 after=0 peak=0
    prev=$(ticks "$pid")
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(rss_kb "$pid")
        ((rss > peak)) && peak=$rss
        sleep 0.1
        n=$((n + 1))
        if [[ -e $WORK/load-done ]]; then
            after=$((after + 1))
            if ((after % 5 == 0)); then
                now=$(ticks "$pid")
                ((now - prev < 2 && after >= 10)) && break
                prev=$now
            fi
            ((after >= 300)) && break
        elif ((n % 5 == 0)); then
            prev=$(ticks "$pid")
        fi
    done
    echo "$peak" >"$WORK/peak-kb"
}

export AGENT_RULES
for phase in $PHASES; do
    run_phase "$phase" || FAILED=1
done

echo
echo "execwatch memory under a local user's execs of /bin/true with distinct $((ARG_BYTES / 1024)) KiB arguments"
echo "(rule COUNT(*) >= 5 grouped by swParam: one open group per exec; $SECONDS_PER_PHASE s per phase; audit unicast)"
echo "budgets: $BUDGETS"
echo
printf '%-5s %8s %7s %8s %6s %9s %9s %8s %8s %9s %10s %9s\n' rate execs "exec/s" seen lost "peakRSS" "VmHWM" engine reasm groupsEv "evictedMiB" pendingEv
printf '%-5s %8s %7s %8s %6s %9s %9s %8s %8s %9s %10s %9s\n' "" "" "" "" "" MiB MiB MiB MiB "" "" ""
for row in "${ROWS[@]}"; do echo "$row"; done
echo
worst=0
for p in "${PEAKS[@]}"; do ((p > worst)) && worst=$p; done
if ((worst / 1024 < RSS_GOAL_MB)); then
    echo "goal: peak RSS < $RSS_GOAL_MB MiB: met ($((worst / 1024)) MiB)"
else
    echo "goal: peak RSS < $RSS_GOAL_MB MiB: NOT met ($((worst / 1024)) MiB)"
fi
for note in "${LOST_NOTES[@]}"; do echo "$note"; done
echo "lost = the kernel's lost counter delta (auditctl -s) + the agent's agentDrops and sequenceGaps deltas;"
echo "seen = all exec events the agent evaluated (other processes' execs included)."
exit "$FAILED"
