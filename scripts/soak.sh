#!/usr/bin/env bash
# soak.sh (`make soak`) — execwatch for an hour under load and faults, then checks that nothing
# was lost, nothing grew and the host is as found. Not part of `make test` or CI.
#
# What runs (SOAK_SECONDS, default 3600):
#   - the agent (`execwatch run`, release build by default, SOAK_CONFIGURATION=debug for the debug
#     one; `--source SOAK_SOURCE`, default auto; its own audit key execwatch-soak; host name
#     "soak"), forwarding over TLS (a throwaway CA from scripts/lib/collector-bench.sh, token
#     auth) to `execwatch-collector` on its embedded SQLite store;
#   - the shared load generator scripts/lib/exec-load.c: /bin/true SOAK_RATE (1000) times a second;
#   - a real `nc` once a second: `nc -h soak-N`, N the second, so each is its own incident of
#     PH_Rule_TH_Linux_23 (grouped by swParam); every tenth second instead repeats the exec of
#     five seconds before (N ending in 5), a counted repeat: that incident ends with count 2,
#     version 2. The nc loop is how the soak knows what the agent must have found.
# Faults, scaled to the duration so a short run still does each once: the collector is stopped
# (SIGTERM) and started again every R = min(300, SOAK_SECONDS/4) seconds, except the middle time,
# when it is SIGKILLed and stays down min(30, R/5) s; the agent is SIGKILLed at 1.5 R and started
# again at once on the same state directory (crash recovery: it must put back the audit state the
# dead agent changed, and say so in its log).
#
# Samples, every SOAK_SAMPLE_SECONDS (5), into WORK/samples.csv: the agent's RSS (VmRSS), CPU
# (% of one core over the interval), open fds, threads, and from `execwatch status --json` events,
# kernelLost, agentDrops, sequenceGaps, outboxDepth, forwardState, engineBytes, reassemblyBytes
# (what the agent's bounded parts hold, to tell their growth from the allocator's). WORK/soak.png
# plots RSS and CPU over time with the faults marked (gnuplot).
#
# At the end (load done, outbox drained, agent stopped with SIGTERM) it prints PASS/FAIL lines:
#   - every incident in the agent's journal is at the collector with the same count and version,
#     none missing, none extra, no incidentId twice, no soak nc argument in two incidents;
#   - every soak nc exec made while the agent was up is at the collector with its count;
#   - RSS after warm-up (min(300, SOAK_SECONDS/6) s into each agent process's life) grows by at
#     most 5 MB (5,000,000 bytes) to that process's last sample; fds and threads end within 2 of
#     their value after warm-up;
#   - kernel lost (the `auditctl -s` delta over the run in audit modes; the agent's own counter
#     otherwise), agentDrops and sequenceGaps (each agent process's last status) are 0;
#   - audit, after the agent's SIGKILL, restart and stop, is as found (enabled, pid, backlog limit
#     and wait time, rules) before the script's own clean-up touches anything; the restarted agent
#     logged that it put back the killed agent's audit state;
#   - every fault was done.
# Exit status: 0 when every line is PASS, 1 otherwise (or when something could not run).
#
# Host hygiene: in audit modes (audit-*, and auto on a kernel without BTF, where auto cannot
# choose eBPF) it holds the project's audit lock
# (/run/lock/execwatch-audit-tests.lock) for the whole run and refuses to start beside a
# registered audit daemon or leftover rules with its key (scripts/lib/host-audit.sh, which on exit
# stops what the script started, deletes only rules with its key, puts back the recorded audit
# settings and checks them). Everything it writes is in WORK (kept: logs, CSV, plot, journal,
# collector store), default /var/tmp/execwatch-soak.DATE, or SOAK_WORK_DIR (must not exist).
#
# Environment: SOAK_SECONDS (3600, at least 60), SOAK_SOURCE (auto), SOAK_CONFIGURATION
#              (release|debug), SOAK_RATE (1000), SOAK_SAMPLE_SECONDS (5), SOAK_SKIP_BUILD=1 (use
#              the binaries already built), SOAK_WORK_DIR.
# Needs root (kernel audit, the proc connector). Installs what it needs: scripts/install-deps.sh soak.
set -euo pipefail

SCRIPT_START=$EPOCHREALTIME
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${SOAK_SECONDS:-3600}
SOURCE=${SOAK_SOURCE:-auto}
CONFIGURATION=${SOAK_CONFIGURATION:-release}
RATE=${SOAK_RATE:-1000}
SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-5}
KEY=execwatch-soak
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
HOST_NAME=soak
RSS_GROWTH_LIMIT=5000000   # bytes
FLAT_TOLERANCE=2           # fds and threads: end minus after warm-up
PY=/usr/bin/python3

log() { printf '[soak %s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { printf '[soak] ERROR: %s\n' "$*" >&2; exit 1; }
cmd() { printf '[soak] $ %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (kernel audit, the proc connector)"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 60 ]] || die "SOAK_SECONDS must be an integer >= 60 (warm-up and each fault once), not '$DURATION'"
[[ $CONFIGURATION == release || $CONFIGURATION == debug ]] || die "SOAK_CONFIGURATION is release or debug, not '$CONFIGURATION'"
[[ $RATE =~ ^[1-9][0-9]*$ ]] || die "SOAK_RATE must be a positive integer, not '$RATE'"
[[ $SAMPLE_SECONDS =~ ^[1-9][0-9]*$ ]] || die "SOAK_SAMPLE_SECONDS must be a positive integer, not '$SAMPLE_SECONDS'"
[[ $SOURCE =~ ^[a-z-]+$ ]] || die "SOAK_SOURCE: a source name (auto, audit-unicast, audit-multicast, proc-connector, proc-poll), not '$SOURCE'"
case $SOURCE in
    proc-connector | proc-poll | ebpf) TOUCHES_AUDIT=0 ;;
    # auto chooses eBPF where the kernel has BTF (the product's default source): no lock, so
    # an hour's soak does not hold up the live tests; it stops at once if auto chose audit
    auto) if [[ -r /sys/kernel/btf/vmlinux ]]; then TOUCHES_AUDIT=0; else TOUCHES_AUDIT=1; fi ;;
    *) TOUCHES_AUDIT=1 ;;
esac

"$REPO/scripts/install-deps.sh" soak || die "cannot install what the soak needs"

WORK=${SOAK_WORK_DIR:-/var/tmp/execwatch-soak.$(date -u +%Y%m%dT%H%M%SZ)}
[[ -e $WORK ]] && die "SOAK_WORK_DIR $WORK exists: give a new one"
mkdir -p "$WORK/bin"
chmod 700 "$WORK"
log "work directory (kept): $WORK"

# ---------------------------------------------------------------------------------------------
# Binaries: the load generator, execwatch and execwatch-collector (copied: a rebuild during the
# soak cannot swap them, and the restarts run the same binary)
# ---------------------------------------------------------------------------------------------
cmd "gcc -O2 -Wall -o $WORK/bin/exec-load $REPO/scripts/lib/exec-load.c"
gcc -O2 -Wall -o "$WORK/bin/exec-load" "$REPO/scripts/lib/exec-load.c" || die "gcc failed"
if [[ ${SOAK_SKIP_BUILD:-} != 1 ]]; then
    for product in execwatch execwatch-collector; do
        cmd "(cd $REPO && swift build -c $CONFIGURATION --product $product)"
        (cd "$REPO" && swift build -c "$CONFIGURATION" --product "$product") >>"$WORK/build.log" 2>&1 || {
            tail -n 40 "$WORK/build.log" >&2
            die "swift build failed (log: $WORK/build.log)"
        }
    done
fi
BIN_DIR=$(cd "$REPO" && swift build -c "$CONFIGURATION" --show-bin-path)
for product in execwatch execwatch-collector; do
    [[ -x $BIN_DIR/$product ]] || die "no $BIN_DIR/$product (build it, or unset SOAK_SKIP_BUILD)"
    cp "$BIN_DIR/$product" "$WORK/bin/$product"
done
EXECWATCH=$WORK/bin/execwatch
COLLECTOR=$WORK/bin/execwatch-collector
log "binaries: $CONFIGURATION build, $BIN_DIR (built $(date -r "$BIN_DIR/execwatch" '+%F %T')), commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---------------------------------------------------------------------------------------------
# Lock, recorded audit state, clean-up on exit (kept work directory)
# ---------------------------------------------------------------------------------------------
BENCH_KEEP_WORK=1
((TOUCHES_AUDIT)) || HOST_AUDIT_UNTOUCHED=1
COMMANDS=()
# shellcheck source=lib/host-audit.sh
source "$REPO/scripts/lib/host-audit.sh"
# shellcheck source=lib/collector-bench.sh
source "$REPO/scripts/lib/collector-bench.sh"

# ---------------------------------------------------------------------------------------------
# Schedule, scaled to the duration
# ---------------------------------------------------------------------------------------------
RESTART_EVERY=$((DURATION / 4 < 300 ? DURATION / 4 : 300))
WARM_UP=$((DURATION / 6 < 300 ? DURATION / 6 : 300))
COLLECTOR_DOWN=$((RESTART_EVERY / 5 < 30 ? RESTART_EVERY / 5 : 30))
AGENT_KILL_AT=$((RESTART_EVERY + RESTART_EVERY / 2))
collector_times=()
for ((t = RESTART_EVERY; t <= DURATION - RESTART_EVERY / 2; t += RESTART_EVERY)); do collector_times+=("$t"); done
COLLECTOR_KILL_AT=${collector_times[$((${#collector_times[@]} / 2))]}
# One event a line: "SECOND ACTION", in time order.
SCHEDULE=$({
    for t in "${collector_times[@]}"; do
        if ((t == COLLECTOR_KILL_AT)); then
            echo "$t collector-kill"
            echo "$((t + COLLECTOR_DOWN)) collector-start"
        else
            echo "$t collector-restart"
        fi
    done
    echo "$AGENT_KILL_AT agent-kill"
} | sort -n -k1,1)
log "schedule: ${DURATION} s; warm-up ${WARM_UP} s; collector restarted every ${RESTART_EVERY} s, SIGKILLed at ${COLLECTOR_KILL_AT} s (down ${COLLECTOR_DOWN} s); agent SIGKILLed and restarted at ${AGENT_KILL_AT} s"

# ---------------------------------------------------------------------------------------------
# Collector and agent
# ---------------------------------------------------------------------------------------------
# As the units run them (packaging/systemd): glibc keeps at most two malloc arenas.
export MALLOC_ARENA_MAX=2
COMMANDS+=("(agent and collector environment) MALLOC_ARENA_MAX=2")
make_pki "$WORK/pki" || die "openssl could not make the certificates (log: $WORK/pki/openssl.log)"
start_collector "$WORK/collector" "" "(collector) " || die "the collector did not start"
add_credential agents "$HOST_NAME" "$WORK/agent.token" || die "cannot register the agent at the collector"

export EXECWATCH_FORWARD_URL=$COLLECTOR_URL EXECWATCH_FORWARD_CA_FILE=$CA_CERT EXECWATCH_FORWARD_TOKEN_FILE=$WORK/agent.token
COMMANDS+=("(agent environment) EXECWATCH_FORWARD_URL=$COLLECTOR_URL EXECWATCH_FORWARD_CA_FILE=$CA_CERT EXECWATCH_FORWARD_TOKEN_FILE=$WORK/agent.token")
AGENT_STATE=$WORK/agent
AGENT_SOCKET=$WORK/agent.sock
KERNEL_LOST_START=$( ((TOUCHES_AUDIT)) && audit_field lost || echo 0)
start_agent "$SOURCE" "$AGENT_STATE" "$AGENT_SOCKET" "$WORK/agent-1.log" "(agent) " || {
    tail -n 20 "$WORK/agent-1.log" >&2
    die "the agent did not start"
}
# Time 0 of the soak: the agent answers; the load, the nc loop, the samples and the faults start.
T0_US=${EPOCHREALTIME/./}
elapsed_us() { echo $((${EPOCHREALTIME/./} - T0_US)); }
LIFE_START_US=(0)
LIFE_PIDS=("$AGENT_PID")
CHOSEN_SOURCE=$(ew_status "$AGENT_SOCKET" | jq -r .source)
log "agent pid $AGENT_PID capturing with $CHOSEN_SOURCE (asked: $SOURCE)"
if ((TOUCHES_AUDIT == 0)) && [[ $CHOSEN_SOURCE == audit* ]]; then die "source $SOURCE chose $CHOSEN_SOURCE without the audit lock"; fi

# ---------------------------------------------------------------------------------------------
# Load: /bin/true at RATE, and one nc a second
# ---------------------------------------------------------------------------------------------
cmd "$WORK/bin/exec-load $RATE $DURATION"
"$WORK/bin/exec-load" "$RATE" "$DURATION" >"$WORK/exec-load.out" 2>&1 &
LOAD_PID=$!
STARTED_PIDS+=("$LOAD_PID")

# nc_loop — second N (1…DURATION) runs `nc -h soak-N`, or when N ends in 0 `nc -h soak-(N-5)`;
# writes "ELAPSED_US ARGUMENT" per exec to WORK/nc.log.
nc_loop() {
    local n now delay tag
    for ((n = 1; n <= DURATION; n++)); do
        now=$(elapsed_us)
        delay=$((n * 1000000 - now))
        ((delay > 0)) && sleep "$((delay / 1000000)).$(printf '%06d' $((delay % 1000000)))"
        if ((n % 10 == 0)); then tag=soak-$((n - 5)); else tag=soak-$n; fi
        echo "$(elapsed_us) $tag" >>"$WORK/nc.log"
        nc -h "$tag" >/dev/null 2>&1 || true
    done
}
nc_loop &
NC_PID=$!
STARTED_PIDS+=("$NC_PID")
COMMANDS+=("(nc, once a second) nc -h soak-N")

# ---------------------------------------------------------------------------------------------
# Sampling and faults
# ---------------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
echo "elapsed_s,agent,pid,rss_kb,cpu_pct,fds,threads,events,kernel_lost,agent_drops,sequence_gaps,outbox_depth,forward_state,engine_bytes,reassembly_bytes,rss_anon_kb,rss_file_kb,rss_shmem_kb" >"$WORK/samples.csv"
PREV_TICKS=""
PREV_US=0
LAST_STATUS=()   # per agent process: its last status JSON (one line)
EVENTS_DONE=()   # "SECOND ACTION" as done, for the plot and the report
AGENT_DOWN=()    # "FROM_US TO_US": when no agent ran

sample() {
    local pid=$AGENT_PID now_us line rest f ticks cpu fds threads status fields life=${#LIFE_PIDS[@]}
    kill -0 "$pid" 2>/dev/null || return 0
    now_us=$(elapsed_us)
    read -r line <"/proc/$pid/stat" || return 0
    rest=${line##*) }
    read -r -a f <<<"$rest"
    ticks=$((f[11] + f[12]))
    cpu=""
    if [[ -n $PREV_TICKS ]] && ((now_us > PREV_US)); then
        local tenths=$(((ticks - PREV_TICKS) * 1000 * 1000000 / (CLK_TCK * (now_us - PREV_US))))
        cpu=$((tenths / 10)).$((tenths % 10))
    fi
    PREV_TICKS=$ticks PREV_US=$now_us
    local fd_list=("/proc/$pid/fd/"*)
    fds=${#fd_list[@]}
    threads=$(awk '$1 == "Threads:" {print $2}' "/proc/$pid/status")
    local rss rss_parts
    # VmRSS and its parts: heap and stacks (RssAnon) apart from mapped files and the eBPF ring
    # (RssFile: its pages count once touched), to tell creep from one-off mappings
    read -r rss rss_parts < <(awk '$1 == "VmRSS:" {t = $2} $1 == "RssAnon:" {a = $2} $1 == "RssFile:" {f = $2}
        $1 == "RssShmem:" {s = $2} END {print t, a "," f "," s}' "/proc/$pid/status")
    status=$(ew_status "$AGENT_SOCKET" | tr -d '\n') || status=""
    if [[ -n $status ]]; then
        LAST_STATUS[$life]=$status
        fields=$(jq -r '[.events, .kernelLost, .agentDrops, .sequenceGaps, .outboxDepth, .forwardState, .engineBytes, .reassemblyBytes] | map(tostring) | join(",")' <<<"$status")
    else
        fields=",,,,,,,"
    fi
    [[ -z $cpu ]] && return 0   # the first sample of a process only starts its CPU interval
    printf '%d.%06d,%d,%d,%s,%s,%s,%s,%s,%s\n' $((now_us / 1000000)) $((now_us % 1000000)) "$life" "$pid" "$rss" "$cpu" \
        "$fds" "$threads" "$fields" "$rss_parts" >>"$WORK/samples.csv"
}

do_event() {
    local at=$1 action=$2
    case $action in
        collector-restart)
            log "fault at ${at} s: collector stopped (SIGTERM) and started again"
            stop_collector || log "the collector exited with status $? on SIGTERM"
            serve_collector "(collector restart) " || die "the collector did not start again"
            ;;
        collector-kill)
            log "fault at ${at} s: collector SIGKILLed, down ${COLLECTOR_DOWN} s"
            kill -KILL "$COLLECTOR_PID"
            wait "$COLLECTOR_PID" 2>/dev/null || true
            ;;
        collector-start)
            log "${at} s: collector started again after its SIGKILL"
            serve_collector "(collector after SIGKILL) " || die "the collector did not start again"
            ;;
        agent-kill)
            log "fault at ${at} s: agent (pid $AGENT_PID) SIGKILLed, started again on the same state directory"
            local down_from
            down_from=$(elapsed_us)
            kill -KILL "$AGENT_PID"
            wait "$AGENT_PID" 2>/dev/null || true
            if ((TOUCHES_AUDIT)) && [[ $CHOSEN_SOURCE == audit* ]]; then
                AUDIT_RECORD_AFTER_KILL=$([[ -f $AGENT_STATE/audit-state ]] && echo present || echo missing)
                AUDIT_AFTER_KILL="enabled $(audit_field enabled), pid $(audit_field pid), rules with key $KEY: $(auditctl -l | grep -c -- "key=$KEY\$" || true)"
                log "after the SIGKILL: audit $AUDIT_AFTER_KILL; $AGENT_STATE/audit-state $AUDIT_RECORD_AFTER_KILL"
            fi
            start_agent "$SOURCE" "$AGENT_STATE" "$AGENT_SOCKET" "$WORK/agent-2.log" "(agent after SIGKILL) " || {
                tail -n 20 "$WORK/agent-2.log" >&2
                die "the agent did not start again after its SIGKILL"
            }
            AGENT_DOWN+=("$down_from $(elapsed_us)")
            LIFE_START_US+=("$(elapsed_us)")
            LIFE_PIDS+=("$AGENT_PID")
            PREV_TICKS=""
            log "agent pid $AGENT_PID capturing with $(ew_status "$AGENT_SOCKET" | jq -r .source)"
            ;;
    esac
    EVENTS_DONE+=("$at $action")
}

mapfile -t PENDING <<<"$SCHEDULE"
next_sample=0
while (($(elapsed_us) < DURATION * 1000000)); do
    now=$(elapsed_us)
    while ((${#PENDING[@]} > 0)) && ((${PENDING[0]%% *} * 1000000 <= now)); do
        do_event ${PENDING[0]}
        PENDING=("${PENDING[@]:1}")
    done
    now=$(elapsed_us)   # a fault can take seconds
    if ((now >= next_sample)); then
        sample
        next_sample=$((next_sample + SAMPLE_SECONDS * 1000000))
        # late by more than half a period (a fault took seconds): the next one a period from now
        ((next_sample - now < SAMPLE_SECONDS * 500000)) && next_sample=$((now + SAMPLE_SECONDS * 1000000))
    fi
    sleep 0.2
done
((${#PENDING[@]} == 0)) || log "faults not done: ${PENDING[*]}"

# ---------------------------------------------------------------------------------------------
# The end: load done, outbox drained, agent stopped
# ---------------------------------------------------------------------------------------------
log "load time over: waiting for the load generator and the nc loop"
LOAD_RC=0
# The generator ends on its own at the end of its time; the hour run once found it stuck in a
# spawn (its vfork wait) for minutes with no child left, and the script waited for ever. Give it
# a minute, then kill it and say so: its rate line is then missing and the verdict says why.
for ((i = 0; i < 600; i++)); do
    kill -0 "$LOAD_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$LOAD_PID" 2>/dev/null; then
    log "the load generator did not end 60 s after its time: killed (no rate line)"
    kill -KILL "$LOAD_PID" 2>/dev/null || true
fi
wait "$LOAD_PID" || LOAD_RC=$?
wait "$NC_PID" || true
LOAD_LINE=$(tail -n 1 "$WORK/exec-load.out")
for ((i = 0; i < 600; i++)); do
    depth=$(ew_status "$AGENT_SOCKET" | jq -r .outboxDepth) || depth=""
    [[ $depth == 0 ]] && break
    sleep 0.2
done
sleep 6   # the agent reads the kernel's lost counter every 5 s
sample
LAST_STATUS[${#LIFE_PIDS[@]}]=$(ew_status "$AGENT_SOCKET" | tr -d '\n')
log "stopping the agent (SIGTERM)"
AGENT_RC=0
stop_pid "$AGENT_PID" || AGENT_RC=$?
if ((TOUCHES_AUDIT)); then
    AUDIT_AFTER=$(audit_state)
    KERNEL_LOST_END=$(audit_field lost)
    AUDIT_RECORD_AFTER_STOP=$([[ -e $AGENT_STATE/audit-state ]] && echo present || echo removed)
fi

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
RESULTS=()
FAILED=0
verdict() { # verdict OK TEXT
    if (($1)); then RESULTS+=("PASS $2"); else RESULTS+=("FAIL $2"); FAILED=1; fi
}

"$EXECWATCH" incidents --json --state-dir "$AGENT_STATE" >"$WORK/journal.jsonl" 2>"$WORK/journal.err" \
    || die "execwatch incidents failed: $(cat "$WORK/journal.err")"
"$COLLECTOR" incidents --config "$COLLECTOR_CONFIG" --json --host "$HOST_NAME" --limit 100000000 \
    >"$WORK/collector.jsonl" 2>"$WORK/collector.err" || die "execwatch-collector incidents failed: $(cat "$WORK/collector.err")"

# Journal against collector, and the soak's own nc execs against what arrived.
# The agent's downtimes go as "FROM_US TO_US,FROM_US TO_US" (stdin is the program).
COMPARISON=$("$PY" - "$WORK/journal.jsonl" "$WORK/collector.jsonl" "$WORK/nc.log" "$(IFS=,; echo "${AGENT_DOWN[*]}")" <<'EOF'
import collections, json, sys
journal_path, collector_path, nc_path = sys.argv[1:4]
down = [tuple(int(x) for x in part.split()) for part in sys.argv[4].split(",") if part.strip()]
def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
journal, collector = read(journal_path), read(collector_path)
j = {i["incidentId"]: i for i in journal}
c = {}
twice = set()
for i in collector:
    if i["incidentId"] in c: twice.add(i["incidentId"])
    c[i["incidentId"]] = i
missing = [k for k in j if k not in c]
extra = [k for k in c if k not in j]
differ = [k for k in j if k in c and (j[k]["version"], j[k]["count"]) != (c[k]["version"], c[k]["count"])]
# soak nc arguments: each in exactly one incident at the collector
by_tag = collections.defaultdict(list)
for i in c.values():
    sw = i.get("attributes", {}).get("swParam", "")
    if i.get("attributes", {}).get("procName") == "nc" and sw.startswith("-h soak-"):
        by_tag[sw[len("-h "):]].append(i)
tag_twice = [t for t, l in by_tag.items() if len(l) > 1]
# what the agent must have seen: execs not within 2 s of its downtime
execs = collections.defaultdict(list)
with open(nc_path) as f:
    for line in f:
        at, tag = line.split()
        execs[tag].append(int(at))
def excused(at):
    return any(a - 2_000_000 <= at <= b + 2_000_000 for a, b in down)
expected = {t: len(ats) for t, ats in execs.items() if not any(excused(a) for a in ats)}
nc_missing = [t for t in expected if t not in by_tag]
nc_count = [t for t in expected if t in by_tag and by_tag[t][0]["count"] != expected[t]]
repeats = sum(1 for t in expected if expected[t] > 1)
print(f"J={len(j)} C={len(c)} MISSING={len(missing)} EXTRA={len(extra)} DIFFER={len(differ)} TWICE={len(twice)} TAGTWICE={len(tag_twice)}"
      f" NCEXECS={sum(len(a) for a in execs.values())} NCTAGS={len(execs)} EXPECTED={len(expected)} REPEATS={repeats}"
      f" NCMISSING={len(nc_missing)} NCCOUNT={len(nc_count)} EXCUSED={len(execs) - len(expected)}")
for name, items in (("missing at the collector", missing), ("not in the journal", extra), ("version/count differ", differ),
                    ("incidentId twice", sorted(twice)), ("nc argument in two incidents", tag_twice),
                    ("nc exec without incident", nc_missing), ("nc count differs", nc_count)):
    if items:
        print(f"  {name}: {' '.join(sorted(items)[:10])}{' …' if len(items) > 10 else ''}", file=sys.stderr)
EOF
) || die "comparing the journal with the collector failed"
cmpfield() { sed -nE "s/.*\\b$1=([0-9]+).*/\\1/p" <<<"$COMPARISON"; }
verdict "$(( $(cmpfield MISSING) + $(cmpfield EXTRA) + $(cmpfield DIFFER) + $(cmpfield TWICE) + $(cmpfield TAGTWICE) == 0 && $(cmpfield J) > 0 ))" \
    "journal = collector: $(cmpfield J) incidents in the journal, $(cmpfield C) at the collector; missing $(cmpfield MISSING), extra $(cmpfield EXTRA), count/version differ $(cmpfield DIFFER), incidentId twice $(cmpfield TWICE), nc argument in two incidents $(cmpfield TAGTWICE)"
verdict "$(( $(cmpfield NCMISSING) + $(cmpfield NCCOUNT) == 0 && $(cmpfield EXPECTED) > 0 ))" \
    "soak nc: $(cmpfield NCEXECS) execs of $(cmpfield NCTAGS) arguments; $(cmpfield EXPECTED) arguments run only while the agent ran ($(cmpfield REPEATS) of them twice: count 2), $(cmpfield EXCUSED) run within 2 s of its restart not counted; without incident $(cmpfield NCMISSING), count differs $(cmpfield NCCOUNT)"

# Growth after warm-up, per agent process (from the samples).
GROWTH=$("$PY" - "$WORK/samples.csv" "$WARM_UP" "$RSS_GROWTH_LIMIT" "$FLAT_TOLERANCE" "${LIFE_START_US[@]}" <<'EOF'
import csv, sys
path, warm_up, limit, tolerance = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
starts = [int(x) / 1e6 for x in sys.argv[5:]]
rows = list(csv.DictReader(open(path)))
ok = True
parts = []
for life, start in enumerate(starts, 1):
    mine = [r for r in rows if int(r["agent"]) == life]
    after = [r for r in mine if float(r["elapsed_s"]) - start >= warm_up]
    if len(after) < 2:
        print(f"agent {life}: fewer than 2 samples after warm-up", file=sys.stderr)
        ok = False
        parts.append(f"agent {life}: no samples after warm-up")
        continue
    base, end = after[0], after[-1]
    rss = int(end["rss_kb"]) * 1024 - int(base["rss_kb"]) * 1024
    fds = int(end["fds"]) - int(base["fds"])
    threads = int(end["threads"]) - int(base["threads"])
    cpu = [float(r["cpu_pct"]) for r in after]
    life_ok = rss <= limit and abs(fds) <= tolerance and abs(threads) <= tolerance
    ok = ok and life_ok
    parts.append(
        f"agent {life} ({float(base['elapsed_s']):.0f}–{float(end['elapsed_s']):.0f} s): RSS {int(mine[0]['rss_kb']) / 1024:.1f} MiB at start,"
        f" {int(base['rss_kb']) / 1024:.1f} → {int(end['rss_kb']) / 1024:.1f} MiB after warm-up ({rss / 1e6:+.2f} MB, max {max(int(r['rss_kb']) for r in after) / 1024:.1f} MiB),"
        f" of it heap/stacks (RssAnon) {(int(end['rss_anon_kb']) - int(base['rss_anon_kb'])) * 1024 / 1e6:+.2f} MB, mapped files and ring (RssFile) {(int(end['rss_file_kb']) - int(base['rss_file_kb'])) * 1024 / 1e6:+.2f} MB,"
        f" engine {int(base['engine_bytes'] or 0) / 1e6:.2f} → {int(end['engine_bytes'] or 0) / 1e6:.2f} MB,"
        f" fds {base['fds']} → {end['fds']} (min {min(int(r['fds']) for r in after)}, max {max(int(r['fds']) for r in after)}),"
        f" threads {base['threads']} → {end['threads']} (min {min(int(r['threads']) for r in after)}, max {max(int(r['threads']) for r in after)}),"
        f" CPU mean {sum(cpu) / len(cpu):.1f} %, max {max(cpu):.1f} % of a core")
print(("OK " if ok else "BAD ") + "; ".join(parts))
EOF
) || die "reading the samples failed"
verdict "$([[ $GROWTH == OK* ]] && echo 1 || echo 0)" \
    "RSS after warm-up grows <= $((RSS_GROWTH_LIMIT / 1000000)) MB, fds and threads flat (within $FLAT_TOLERANCE): ${GROWTH#* }"

# Loss: the kernel's counter over the whole run (audit), the agents' drops and gaps.
drops=0 gaps=0 agent_lost=0 lost_parts=()
for ((life = 1; life <= ${#LIFE_PIDS[@]}; life++)); do
    s=${LAST_STATUS[$life]:-}
    [[ -n $s ]] || { lost_parts+=("agent $life: no status"); drops=$((drops + 1)); continue; }
    read -r d g k m od <<<"$(jq -r '[.agentDrops, .sequenceGaps, .kernelLost, .malformedRecords, .outboxDropped] | map(tostring) | join(" ")' <<<"$s")"
    drops=$((drops + d)) gaps=$((gaps + g))
    lost_parts+=("agent $life: agentDrops $d, sequenceGaps $g, kernelLost $k, malformedRecords $m, outboxDropped $od")
    if ((!TOUCHES_AUDIT)) || [[ $CHOSEN_SOURCE != audit* ]]; then agent_lost=$((agent_lost + k)); fi
done
if ((TOUCHES_AUDIT)) && [[ $CHOSEN_SOURCE == audit* ]]; then
    kernel_lost=$((KERNEL_LOST_END - KERNEL_LOST_START))
    lost_text="kernel lost $kernel_lost (auditctl -s: $KERNEL_LOST_START → $KERNEL_LOST_END)"
else
    kernel_lost=$agent_lost
    lost_text="kernel lost $kernel_lost (the agents' kernelLost)"
fi
verdict "$((kernel_lost + drops + gaps == 0))" "$lost_text, agentDrops $drops, sequenceGaps $gaps (${lost_parts[*]})"

# Audit as found, by the agent's own crash recovery.
if ((TOUCHES_AUDIT)); then
    recovery_logged=$(grep -c "put back the audit state a killed agent left changed" "$WORK/agent-2.log" || true)
    if [[ $CHOSEN_SOURCE == audit* ]]; then
        verdict "$([[ $AUDIT_AFTER == "$BEFORE_STATE" && $recovery_logged -ge 1 && ${AUDIT_RECORD_AFTER_KILL:-} == present && $AUDIT_RECORD_AFTER_STOP == removed ]] && echo 1 || echo 0)" \
            "audit after the agent's SIGKILL, restart and stop (exit status $AGENT_RC) as found: $([[ $AUDIT_AFTER == "$BEFORE_STATE" ]] && echo identical || echo "DIFFERS: $(diff <(echo "$BEFORE_STATE") <(echo "$AUDIT_AFTER") | grep '^[<>]' | tr '\n' ' ')");\
 after the kill: ${AUDIT_AFTER_KILL:-?}, audit-state record ${AUDIT_RECORD_AFTER_KILL:-?}; the restarted agent logged putting it back: $recovery_logged time(s); after the stop the record is $AUDIT_RECORD_AFTER_STOP"
    else
        verdict "$([[ $AUDIT_AFTER == "$BEFORE_STATE" ]] && echo 1 || echo 0)" "audit as found after the agent stopped (source $CHOSEN_SOURCE does not change audit)"
    fi
fi
verdict "$((AGENT_RC == 0))" "the agent stopped on SIGTERM with exit status $AGENT_RC"

restarts=$(printf '%s\n' "${EVENTS_DONE[@]}" | grep -c ' collector-restart$' || true)
kills=$(printf '%s\n' "${EVENTS_DONE[@]}" | grep -c ' collector-kill$' || true)
agent_kills=$(printf '%s\n' "${EVENTS_DONE[@]}" | grep -c ' agent-kill$' || true)
verdict "$((restarts >= 1 && kills == 1 && agent_kills == 1 && ${#PENDING[@]} == 0))" \
    "faults: collector restarted $restarts times (SIGTERM), SIGKILLed $kills time(s) and down ${COLLECTOR_DOWN} s, agent SIGKILLed and restarted $agent_kills time(s)"
load_launched=$(sed -nE 's/.*launched=([0-9]+).*/\1/p' <<<"$LOAD_LINE")
load_elapsed=$(sed -nE 's/.*elapsed_s=([0-9.]+).*/\1/p' <<<"$LOAD_LINE")
verdict "$((LOAD_RC == 0))" "load: $LOAD_LINE ($(awk -v l="${load_launched:-0}" -v e="${load_elapsed:-1}" 'BEGIN{printf "%.0f", l/e}') exec/s of /bin/true)"

# ---------------------------------------------------------------------------------------------
# Plot: RSS and CPU over time, the faults marked
# ---------------------------------------------------------------------------------------------
{
    echo 'set datafile separator ","'
    echo 'set terminal pngcairo size 1400,700 font "sans,10"'
    echo "set output \"$WORK/soak.png\""
    echo "set title \"execwatch soak: ${DURATION} s, $RATE exec/s + nc/s, source $CHOSEN_SOURCE, $CONFIGURATION build\""
    echo 'set xlabel "minutes since start"'
    echo 'set ylabel "agent RSS (MiB)"'
    echo 'set y2label "agent CPU (% of one core)"'
    echo 'set ytics nomirror'
    echo 'set y2tics'
    echo 'set yrange [0:*]'
    echo 'set y2range [0:*]'
    echo 'set key top left'
    echo 'set grid'
    for e in "${EVENTS_DONE[@]}"; do
        at=${e%% *} what=${e#* }
        echo "set arrow from $at/60.0, graph 0 to $at/60.0, graph 1 nohead dashtype 2 linecolor rgb \"gray40\""
        echo "set label \"$what\" at $at/60.0, graph 0.97 rotate by 90 right font \",8\""
    done
    # one line per agent process (no segment across the restart), the same colour
    echo "plot for [L=1:${#LIFE_PIDS[@]}] \"$WORK/samples.csv\" every ::1 using (\$1/60):(\$2 == L ? \$4/1024 : 1/0) axes x1y1 with lines linewidth 2 linecolor 1 title (L == 1 ? \"RSS (MiB)\" : \"\"), \\"
    echo "     for [L=1:${#LIFE_PIDS[@]}] \"$WORK/samples.csv\" every ::1 using (\$1/60):(\$2 == L ? \$5 : 1/0) axes x1y2 with lines linecolor 2 title (L == 1 ? \"CPU (% of a core)\" : \"\")"
} >"$WORK/soak.gnuplot"
if gnuplot "$WORK/soak.gnuplot" 2>"$WORK/gnuplot.err"; then
    PLOT="$WORK/soak.png"
else
    PLOT="none (gnuplot failed: $(head -n 3 "$WORK/gnuplot.err" | tr '\n' ' '))"
    FAILED=1
fi

echo
echo "execwatch soak: ${DURATION} s, source $CHOSEN_SOURCE (asked $SOURCE), $CONFIGURATION build, $RATE exec/s of /bin/true + one nc a second"
echo "faults done (second action): $(printf '%s; ' "${EVENTS_DONE[@]}")"
for r in "${RESULTS[@]}"; do echo "$r"; done
echo "samples: $WORK/samples.csv; plot: $PLOT; logs: $WORK/agent-1.log, $WORK/agent-2.log, $WORK/collector/collector.log"
echo "commands:"
for c in "${COMMANDS[@]}"; do echo "  $c"; done
echo "script run time: $(awk -v a="$SCRIPT_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}') s"
if ((FAILED)); then echo "soak: FAIL"; else echo "soak: PASS"; fi
exit "$FAILED"
