#!/usr/bin/env bash
# bench-e2e-latency.sh — end-to-end latency: time from the exec of a netcat on this host to its
# incident being stored at the collector and visible through the collector's query API,
# p50/p90/p99/max over BENCH_RUNS (200) runs, agent and collector on loopback.
#
# What it does:
#   1. Builds execwatch and execwatch-collector in release mode (`swift build -c release --product
#      execwatch`, then `--product execwatch-collector`) unless BENCH_SKIP_BUILD=1, and copies both
#      binaries to a temp dir. Makes a throwaway CA and a server certificate (EC P-256, SAN
#      IP:127.0.0.1) with openssl.
#   2. Takes the audit lock (flock /run/lock/execwatch-audit-tests.lock, held until exit), refuses
#      if an audit daemon is registered or rules with the bench key are loaded, and records
#      `auditctl -s` (enabled, pid, backlog_limit, backlog_wait_time) and `auditctl -l`
#      (scripts/lib/host-audit.sh).
#   3. Starts `execwatch-collector serve` (TLS, clientAuth off, token auth, the default storage:
#      SQLite collector.db in its stateDir; listen 127.0.0.1:<free port>), waits for GET /healthz,
#      creates two tokens: the agent's (`agents add <bench host>`) and the driver's for its queries
#      (`readers add`).
#   4. Starts the agent: `execwatch run --config agent.yaml --source audit-unicast` with
#      EXECWATCH_AUDIT_KEY=BENCH_KEY, the repository's rules (the netcat rule: one incident per
#      (host, user, procName, swParam)), a fresh state dir, and agent.yaml = metrics off +
#      forward {url, caFile, tokenFile (0600)} — default batching (batchMaxIncidents 100,
#      batchMaxMilliseconds 50) and default gzip.
#   5. A Python driver (/usr/bin/python3, below) then, for run i = 0..N-1:
#        - takes the wall clock (time.time_ns()) just before os.posix_spawn of
#          `/usr/bin/nc -z -w 1 127.0.0.1 <BENCH_PORT_BASE+i>` (loopback only; distinct port ->
#          distinct swParam -> a new incident per run; stdout/stderr to /dev/null);
#        - every BENCH_POLL_MS (2) ms asks the collector over ONE keep-alive HTTPS connection
#          `GET /api/v1/incidents?hostName=<bench host>&limit=5` (Bearer token; newest first) until
#          an incident whose attributes.swParam is that run's appears (timeout BENCH_TIMEOUT_S = 10 s);
#        - waits for nc, sleeps BENCH_GAP_MS (20) ms, next run.
#      BENCH_WARMUP (3) warm-up runs on the ports just below the base come first, not counted.
#      Per run it records, relative to the exec wall time (ms):
#        observed  = wall time the driver's GET reply first held the incident − exec time. The
#                    goal (p99 <= 250 ms) is judged on this figure. It includes up to one poll
#                    interval and one query.
#        received  = the collector's received_at of the incident (read from its SQLite file after
#                    the collector stopped) − exec time: when the collector took the batch, before
#                    or at its store transaction.
#        kernel    = incident firstSeen (the audit record's kernel timestamp, ms, coarse clock;
#                    usually a few ms NEGATIVE, see bench-latency.sh) − exec time.
#   6. Checks afterwards: the agent's outboxDepth reaches 0 (waits up to 30 s) and
#      forwardLastError is empty; every run is exactly one incident at the collector
#      (`execwatch-collector incidents --json`: one incident per port, count 1, procName nc, distinct
#      incidentIds); the agent's kernelLost/agentDrops did not grow; the agent and the collector
#      exit 0 on SIGTERM; the host audit state is as found once the agent stopped.
#
# Host hygiene: trap EXIT stops what the script started (agent, collector; by pid), deletes only
# rules with BENCH_KEY, restores enabled/backlog_limit/backlog_wait_time as found and compares
# `auditctl -s` and `auditctl -l` with the recorded state; removes the temp dir.
#
# Exit status: 0 when the runs completed and verified and the host audit state is as found (even
# if the goal is missed — it reports); 1 if the build, the collector or the agent failed, a run
# timed out, an incident is missing or duplicated, the outbox did not drain, or the audit state
# could not be restored.
#
# Environment: BENCH_RUNS (200), BENCH_SKIP_BUILD, BENCH_KEY (execwatch-bench-e2e),
#              BENCH_PORT_BASE (45000), BENCH_WARMUP (3), BENCH_GAP_MS (20), BENCH_POLL_MS (2),
#              BENCH_TIMEOUT_S (10), BENCH_KEEP_WORK=1.
# Needs root (kernel audit). Installs missing packages with scripts/install-deps.sh (bench; and
# test, for openssl, when it is missing).
set -euo pipefail

SCRIPT_START=$EPOCHREALTIME
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-200}
KEY=${BENCH_KEY:-execwatch-bench-e2e}
PORT_BASE=${BENCH_PORT_BASE:-45000}
WARMUP=${BENCH_WARMUP:-3}
GAP_MS=${BENCH_GAP_MS:-20}
POLL_MS=${BENCH_POLL_MS:-2}
TIMEOUT_S=${BENCH_TIMEOUT_S:-10}
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
HOST_NAME=bench-e2e
NC=/usr/bin/nc
PY=/usr/bin/python3
GOAL_MS=250

log() { printf '[bench-e2e-latency] %s\n' "$*" >&2; }
die() { printf '[bench-e2e-latency] ERROR: %s\n' "$*" >&2; exit 1; }
cmd() { printf '[bench-e2e-latency] $ %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || die "needs root (kernel audit)"
for v in RUNS PORT_BASE WARMUP GAP_MS POLL_MS TIMEOUT_S; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a non-negative integer, got '${!v}'"
done
((RUNS > 0 && PORT_BASE + RUNS <= 65536 && PORT_BASE - WARMUP > 0)) || die "bad BENCH_RUNS/BENCH_PORT_BASE"
[[ $KEY =~ ^[A-Za-z0-9_.-]+$ && ${#KEY} -le 31 ]] || die "BENCH_KEY must be [A-Za-z0-9_.-]{1,31}"

"$REPO/scripts/install-deps.sh" bench || die "cannot install what the benchmark needs"
command -v openssl >/dev/null || "$REPO/scripts/install-deps.sh" test || die "cannot install openssl (install-deps.sh test)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/execwatch-bench-e2e.XXXXXX")

# ---------------------------------------------------------------------------------------------
# 1. execwatch, execwatch-collector
# ---------------------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
    for product in execwatch execwatch-collector; do
        cmd "(cd $REPO && swift build -c release --product $product)"
        (cd "$REPO" && swift build -c release --product "$product") >"$WORK/build-$product.log" 2>&1 || {
            tail -n 40 "$WORK/build-$product.log" >&2
            rm -rf "$WORK"
            die "swift build --product $product failed"
        }
    done
fi
BIN_DIR=$(cd "$REPO" && swift build -c release --show-bin-path)
for product in execwatch execwatch-collector; do
    [[ -x $BIN_DIR/$product ]] || { rm -rf "$WORK"; die "no $product binary at $BIN_DIR/$product (build it, or unset BENCH_SKIP_BUILD)"; }
    cp "$BIN_DIR/$product" "$WORK/$product"
    log "$product: $BIN_DIR/$product (copied to $WORK/$product), built $(date -r "$BIN_DIR/$product" '+%F %T')"
done
EXECWATCH=$WORK/execwatch
COLLECTOR=$WORK/execwatch-collector

# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------
cat >"$WORK/driver.py" <<'EOF'
"""Exec netcat, poll the collector's query API until the incident is there; one TSV line per run.

usage: driver.py PORT CA TOKEN_FILE HOST NC RUNS PORT_BASE WARMUP GAP_MS POLL_MS TIMEOUT_S OUT_TSV
TSV columns: i port exec_ns observed_ns incidentId firstSeen_ms polls (run i < 0: warm-up)
"""
import calendar
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse

(port, ca, token_file, host, nc, runs, port_base, warmup, gap_ms, poll_ms, timeout_s, out) = sys.argv[1:]
port, runs, port_base, warmup = int(port), int(runs), int(port_base), int(warmup)
gap, poll, timeout_ns = int(gap_ms) / 1000, int(poll_ms) / 1000, int(timeout_s) * 10**9
token = open(token_file).read().strip()
context = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
conn.connect()
path = "/api/v1/incidents?" + urllib.parse.urlencode({"hostName": host, "limit": 5})
headers = {"Authorization": f"Bearer {token}"}
connects, poll_errors = 1, []


def newest():
    """The newest incidents of the bench host: {swParam: incident}; {} after a failed request."""
    global connects
    if conn.sock is None:
        connects += 1
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        poll_errors.append(f"{type(e).__name__}: {e}")
        return {}
    if resp.status != 200:
        poll_errors.append(f"HTTP {resp.status}: {data[:200]!r}")
        return {}
    return {i.get("attributes", {}).get("swParam"): i for i in json.loads(data).get("incidents", [])}


def ms(rfc3339):  # 2026-11-28T10:00:00.123Z -> epoch ms
    head, _, frac = rfc3339.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S")) * 1000 + int((frac or "0")[:3].ljust(3, "0"))


devnull = os.open(os.devnull, os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
failures = 0
with open(out, "w") as f:
    for i in list(range(-warmup, 0)) + list(range(runs)):
        p = port_base + i  # warm-up runs (i < 0): the ports just below port_base
        sw = f"-z -w 1 127.0.0.1 {p}"
        argv = ["nc", "-z", "-w", "1", "127.0.0.1", str(p)]
        found, polls = None, 0
        t0 = time.time_ns()
        pid = os.posix_spawn(nc, argv, env, file_actions=actions)
        while found is None and time.time_ns() - t0 <= timeout_ns:
            time.sleep(poll)
            polls += 1
            found = newest().get(sw)
        observed = time.time_ns()
        os.waitpid(pid, 0)
        if found is None:
            failures += 1
            print(f"driver: run {i} (port {p}): not at the collector within {timeout_s} s", file=sys.stderr)
            f.write(f"{i}\t{p}\t{t0}\t-\t-\t-\t{polls}\n")
        else:
            f.write(f"{i}\t{p}\t{t0}\t{observed}\t{found['incidentId']}\t{ms(found['firstSeen'])}\t{polls}\n")
        time.sleep(gap)
print(f"driver: {connects} HTTPS connection(s) opened for the queries, {len(poll_errors)} failed queries",
      file=sys.stderr)
for e in poll_errors[:5]:
    print(f"driver: failed query: {e}", file=sys.stderr)
sys.exit(1 if failures or poll_errors else 0)
EOF

cat >"$WORK/stats.py" <<'EOF'
"""stats.py TSV COLLECTOR_DB GOAL_MS — p50/p90/p99/max of the latencies (ms) over the counted runs."""
import math
import sqlite3
import sys

tsv, db, goal = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
rows = [r for r in rows if int(r[0]) >= 0]
ok = [r for r in rows if r[3] != "-"]
received = {}
try:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    received = dict(conn.execute("SELECT incident_id, received_at FROM incidents"))
except sqlite3.Error as e:
    print(f"(no received_at: {e})")
series = {
    "observed (GET /api/v1/incidents returned it)": [(int(r[3]) - int(r[2])) / 1e6 for r in ok],
    "received (collector received_at)": [received[r[4]] - int(r[2]) / 1e6 for r in ok if r[4] in received],
    "kernel (incident firstSeen = audit timestamp)": [int(r[5]) - int(r[2]) / 1e6 for r in ok],
}


def pct(values, p):  # nearest rank
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


polls = [int(r[6]) for r in ok]
print(f"runs {len(rows)}, at the collector {len(ok)}, timed out {len(rows) - len(ok)};"
      f" queries per run: median {pct(polls, 50) if polls else '-'}, max {max(polls) if polls else '-'}")
print(f"{'latency from exec, ms':<48} {'n':>4} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} {'min':>7}")
for name, v in series.items():
    if v:
        print(f"{name:<48} {len(v):>4} {pct(v, 50):>7.1f} {pct(v, 90):>7.1f} {pct(v, 99):>7.1f} {max(v):>7.1f} {min(v):>7.1f}")
obs = series["observed (GET /api/v1/incidents returned it)"]
if obs and len(ok) == len(rows):
    p99 = pct(obs, 99)
    print(f"GOAL p99 <= {goal:.0f} ms (observed): p99 = {p99:.1f} ms: {'MET' if p99 <= goal else 'MISSED'}")
else:
    print(f"GOAL p99 <= {goal:.0f} ms (observed): MISSED (runs that never reached the collector)")
EOF

# ---------------------------------------------------------------------------------------------
# 2. Audit lock, recorded state, cleanup (trap EXIT); the collector helpers
# ---------------------------------------------------------------------------------------------
# shellcheck source=lib/host-audit.sh
source "$REPO/scripts/lib/host-audit.sh"
# shellcheck source=lib/collector-bench.sh
source "$REPO/scripts/lib/collector-bench.sh"
COMMANDS=()
FAILED=0
NOTES=()

make_pki "$WORK/pki" || { cat "$WORK/pki/openssl.log" >&2; die "openssl failed"; }

# ---------------------------------------------------------------------------------------------
# 3. The collector
# ---------------------------------------------------------------------------------------------
start_collector "$WORK/collector" "" "" || die "the collector did not start"
# The agent is registered under its hostName (it may send only that host's incidents); the
# driver reads with a reader's token (an agent's token reads nothing).
add_credential agents "$HOST_NAME" "$WORK/agent.token" || die "agents add failed"
add_credential readers "$HOST_NAME-reader" "$WORK/reader.token" || die "readers add failed"

# ---------------------------------------------------------------------------------------------
# 4. The agent
# ---------------------------------------------------------------------------------------------
AGENT_DIR=$WORK/agent
mkdir -p "$AGENT_DIR"
cat >"$AGENT_DIR/agent.yaml" <<EOF
metrics:
  listen: off
forward:
  url: $COLLECTOR_URL
  caFile: $CA_CERT
  tokenFile: $WORK/agent.token
EOF
SOCK=$AGENT_DIR/agent.sock
c="EXECWATCH_METRICS_LISTEN=off EXECWATCH_AUDIT_KEY=$KEY $EXECWATCH run --config $AGENT_DIR/agent.yaml --source audit-unicast --state-dir $AGENT_DIR/state --status-socket $SOCK --rules $REPO/rules --host $HOST_NAME"
cmd "$c"
COMMANDS+=("$c")
mkdir -p "$AGENT_DIR/state"
EXECWATCH_METRICS_LISTEN=off EXECWATCH_AUDIT_KEY=$KEY "$EXECWATCH" run --config "$AGENT_DIR/agent.yaml" \
    --source audit-unicast --state-dir "$AGENT_DIR/state" --status-socket "$SOCK" --rules "$REPO/rules" \
    --host "$HOST_NAME" >"$AGENT_DIR/agent.log" 2>&1 &
AGENT_PID=$!
STARTED_PIDS+=("$AGENT_PID")
for ((i = 0; i < 200; i++)); do
    kill -0 "$AGENT_PID" 2>/dev/null || break
    ew_status "$SOCK" >/dev/null && break
    sleep 0.1
done
if ! S0=$(ew_status "$SOCK") || [[ $(jq -r .source <<<"$S0") != audit-unicast ]]; then
    log "execwatch did not start in audit-unicast:"; tail -n 20 "$AGENT_DIR/agent.log" >&2
    exit 1
fi
sleep 1
S0=$(ew_status "$SOCK")
for k in outboxDepth incidentsForwarded forwardLastError; do
    jq -e "has(\"$k\")" <<<"$S0" >/dev/null || log "NOTE: the agent's status has no '$k'"
done

# ---------------------------------------------------------------------------------------------
# 5. Runs
# ---------------------------------------------------------------------------------------------
log "$RUNS runs (+$WARMUP warm-up)"
drv="$PY $WORK/driver.py $COLLECTOR_PORT $CA_CERT $WORK/reader.token $HOST_NAME $NC $RUNS $PORT_BASE $WARMUP $GAP_MS $POLL_MS $TIMEOUT_S $WORK/runs.tsv"
cmd "$drv"
COMMANDS+=("$drv")
drc=0
# shellcheck disable=SC2086
$drv || drc=$?
((drc == 0)) || { log "driver exited $drc"; FAILED=1; }

# ---------------------------------------------------------------------------------------------
# 6. Checks
# ---------------------------------------------------------------------------------------------
# the outbox drains (it should already be empty: every run was seen at the collector)
S1='{}'
for ((i = 0; i < 300; i++)); do
    S1=$(ew_status "$SOCK") || S1='{}'
    [[ $(jq -r '.outboxDepth // "?"' <<<"$S1") == 0 ]] && break
    sleep 0.1
done
# the agent reads the kernel's status every 5 s: wait for a read after the runs
sleep 5.5
S1=$(ew_status "$SOCK") || S1='{}'
OUTBOX=$(jq -r '.outboxDepth // "?"' <<<"$S1")
FWD_ERR=$(jq -r '.forwardLastError // ""' <<<"$S1")
NOTES+=("agent outboxDepth at the end: $OUTBOX; forwardLastError: ${FWD_ERR:-none}")
[[ $OUTBOX == 0 ]] || { log "the agent's outbox did not drain: outboxDepth $OUTBOX"; FAILED=1; }
for k in incidentsForwarded events kernelLost agentDrops sequenceGaps incidentsStored residentBytes; do
    NOTES+=("agent $k: $(jq -r ".$k // \"?\"" <<<"$S0") -> $(jq -r ".$k // \"?\"" <<<"$S1")")
done
if [[ $(jq -r '"\(.kernelLost // "?") \(.agentDrops // "?")"' <<<"$S1") != \
      "$(jq -r '"\(.kernelLost // "?") \(.agentDrops // "?")"' <<<"$S0")" ]]; then
    log "the agent reported loss during the runs"
    NOTES+=("LOSS reported during the runs")
fi

rc=0
stop_pid "$AGENT_PID" || rc=$?
((rc == 0)) || { log "execwatch exited $rc:"; tail -n 20 "$AGENT_DIR/agent.log" >&2; FAILED=1; }
now=$(audit_state)
if [[ $now == "$BEFORE_STATE" ]]; then
    NOTES+=("host audit state as found after the agent stopped")
else
    NOTES+=("host audit state NOT as found after the agent stopped: $(diff <(echo "$BEFORE_STATE") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')")
fi

# every run: one incident at the collector
c="$COLLECTOR incidents --config $COLLECTOR_CONFIG --json --limit 100000"
cmd "$c"
CHECK=$("$COLLECTOR" incidents --config "$COLLECTOR_CONFIG" --json --limit 100000 2>"$WORK/incidents.err" \
        | jq -rs --arg host "$HOST_NAME" --argjson base "$PORT_BASE" --argjson n "$RUNS" '
    [ .[] | select(.hostName == $host and ((.attributes.swParam // "") | test("^-z -w 1 127\\.0\\.0\\.1 [0-9]+$")))
          | {id: .incidentId, port: (.attributes.swParam | split(" ")[4] | tonumber), count, procName: .attributes.procName} ]
    | [ .[] | select(.port >= $base and .port < $base + $n) ] as $counted
    | "incidents at the collector for the counted ports: \($counted | length) of \($n); with count 1 and procName nc: \([$counted[] | select(.count == 1 and .procName == "nc")] | length); distinct ports: \([$counted[].port] | unique | length); distinct incidentIds: \([$counted[].id] | unique | length)"') ||
    { log "incidents --json failed: $(tail -n 3 "$WORK/incidents.err")"; CHECK="not checked (incidents --json failed)"; FAILED=1; }
NOTES+=("$CHECK")
if [[ $CHECK != "incidents at the collector for the counted ports: $RUNS of $RUNS; with count 1 and procName nc: $RUNS; distinct ports: $RUNS; distinct incidentIds: $RUNS" ]]; then
    log "not every run became exactly one incident at the collector: $CHECK"
    FAILED=1
fi

COLLECTOR_CPU=$(awk -v t="$(proc_ticks "$COLLECTOR_PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz}')
COLLECTOR_HWM=$(proc_hwm_kb "$COLLECTOR_PID")
rc=0
stop_collector || rc=$?
((rc == 0)) || { log "execwatch-collector exited $rc:"; tail -n 20 "$COLLECTOR_LOG" >&2; FAILED=1; }
NOTES+=("collector: CPU ${COLLECTOR_CPU} s in all (incl. $((RUNS + WARMUP)) runs of queries every $POLL_MS ms), peak RSS $(awk -v k="$COLLECTOR_HWM" 'BEGIN{printf "%.1f", k*1024/1e6}') MB, exit status $rc")

RESULT=$($PY "$WORK/stats.py" "$WORK/runs.tsv" "$WORK/collector/state/collector.db" "$GOAL_MS")

# ---------------------------------------------------------------------------------------------
# 7. Report
# ---------------------------------------------------------------------------------------------
echo
echo "== execwatch end to end: exec of nc -> incident stored at the collector (HTTPS, token, SQLite) =="
echo "host:   $(nproc) cores (shared), kernel $(uname -r), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs:   $RUNS (+$WARMUP warm-up, not counted), $NC -z -w 1 127.0.0.1 PORT, PORT = $PORT_BASE..$((PORT_BASE + RUNS - 1));" \
     "agent audit-unicast, default batching; query every $POLL_MS ms, $GAP_MS ms between runs; percentiles: nearest rank"
echo
echo "$RESULT"
for n in "${NOTES[@]}"; do echo "$n"; done
echo
echo "commands:"
for c in "${COMMANDS[@]}"; do echo "  $c"; done
echo "script run time: $(awk -v a="$SCRIPT_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}') s"

if ((FAILED)); then
    log "the benchmark failed (see the messages above)"
    exit 1
fi
exit 0
