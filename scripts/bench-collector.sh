#!/usr/bin/env bash
# bench-collector.sh — collector ingest throughput: incidents stored per second by
# `execwatch-collector` over HTTPS with token auth, on SQLite and on PostgreSQL.
#
# What it does:
#   1. Builds the collector in release mode (`swift build -c release --product execwatch-collector`)
#      unless BENCH_SKIP_BUILD=1, and copies the binary to a temp dir. Makes a throwaway CA and a
#      server certificate (EC P-256, SAN IP:127.0.0.1) with openssl.
#   2. For each storage of BENCH_STORAGES (default "sqlite postgres") and each gzip setting of
#      BENCH_GZIP (default "off"; "off on" runs both):
#        sqlite:   storage url = a fresh file in the temp dir;
#        postgres: a PostgreSQL 15 cluster of the bench's own, made by scripts/postgres-for-tests.sh
#                  with EXECWATCH_TEST_PG_DIR=/tmp/execwatch-bench-pg.<pid> and
#                  EXECWATCH_TEST_PG_PORT=<free port> (so that tests restarting the shared test
#                  cluster on 55432 cannot pull it away mid-run; its settings: fsync, full_page_writes
#                  and synchronous_commit off), and in it a fresh database execwatch_bench_<pid>
#                  (CREATE DATABASE ... OWNER execwatch, as the postgres OS user over the cluster's
#                  unix socket) per run; the database is dropped and the cluster stopped and removed
#                  at the end;
#      starts `execwatch-collector serve` (TLS, clientAuth off, listen 127.0.0.1:<free port>),
#      waits for GET /healthz = 200, registers one agent per sender (`agents add bench-host-NN`:
#      an agent may send only incidents whose hostName is its name) and runs the Python load
#      generator (/usr/bin/python3, below):
#        - BENCH_SENDERS (4) sender processes (multiprocessing, fork), each with ONE keep-alive
#          HTTPS connection (http.client; TLS handshake done before the clock starts);
#        - BENCH_INCIDENTS (200000) distinct incidents (incidentId = 8 hex digits of run tag +
#          24 of the incident number; DESIGN.md's format, one LINUX_PROCESS_EXEC trigger event
#          with the keys the agent writes, each sender's host name, distinct swParam), in batches of
#          BENCH_BATCH (100): batch b goes to sender b mod BENCH_SENDERS; each sender posts its
#          batches back to back (closed loop: at most BENCH_SENDERS requests in flight). Every
#          request body (JSON array; gzip level 6 with Content-Encoding: gzip when gzip is on) is
#          made BEFORE the clock starts;
#        - pass "create": every incident is new; every reply must be 200 with accepted = created =
#          batch size. Pass "dedupe": the very same bodies again; every incident must come back
#          "unchanged" (accepted = unchanged = batch size).
#      Per pass it reports:
#        incidents/s  = incidents sent / wall time from the first request's start to the last
#                       reply's end (time.monotonic_ns in every sender, one system-wide clock);
#        requests/s, request latency p50/p99/max (send of the request to the end of the reply,
#                       per request, nearest rank);
#        collector CPU % = utime+stime delta of the collector (/proc/PID/stat, all threads) over the
#                       pass, / pass wall time (100% = one core); PostgreSQL CPU % likewise over the
#                       postmaster and its children (the backends serving the collector);
#        collector peak RSS = VmHWM (/proc/PID/status) after the pass (peak since it started);
#        sender CPU % = each sender's own user+sys (getrusage) / its wall time: a sender near 100%
#                       would be the bottleneck — the report says whether any sender got above 80%;
#        host CPU busy % (/proc/stat, all cores): tells whether the 2-core host itself is full;
#        TLS connections opened (should be BENCH_SENDERS: the collector keeps connections alive).
#   3. Checks afterwards that the collector holds exactly the distinct incidents sent:
#        `execwatch-collector incidents --config F --json --limit N+1000` lines (and distinct
#        incidentIds among them) = N and, on PostgreSQL, also
#        SELECT count(*), count(DISTINCT incident_id) FROM incidents = N|N.
#      A lost or duplicated incident, a non-200 reply or wrong created/unchanged counts fail the
#      run. The goal (>= 5,000 incidents/s created on SQLite) is printed next to the figure.
#
# Host hygiene: trap EXIT stops the collectors (by pid), drops the bench database, stops and
# removes the bench's PostgreSQL cluster (`postgres-for-tests.sh stop` with its dir and port), and
# removes the temp dir. The shared test cluster (55432) is not touched.
#
# Exit status: 0 when every run completed and verified (even if the goal is missed — it reports);
# 1 on a build failure, a collector that did not start or exited non-zero, a failed request, a
# wrong reply count, or lost/duplicated incidents.
#
# Environment: BENCH_STORAGES ("sqlite postgres"), BENCH_SENDERS (4), BENCH_BATCH (100),
#              BENCH_INCIDENTS (200000: > 10 s of load at ~18,000/s; a pass under 10 s is flagged),
#              BENCH_GZIP ("off"; "on", "off on"), BENCH_DEDUPE (1; 0 skips the second pass),
#              BENCH_SKIP_BUILD, BENCH_KEEP_WORK=1.
# Needs root for PostgreSQL (runuser postgres). Installs missing packages with
# scripts/install-deps.sh (bench; and test, for openssl and PostgreSQL, when they are missing).
set -euo pipefail

SCRIPT_START=$EPOCHREALTIME
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STORAGES=${BENCH_STORAGES:-sqlite postgres}
SENDERS=${BENCH_SENDERS:-4}
BATCH=${BENCH_BATCH:-100}
INCIDENTS=${BENCH_INCIDENTS:-200000}
GZIP_MODES=${BENCH_GZIP:-off}
DEDUPE=${BENCH_DEDUPE:-1}
PY=/usr/bin/python3
PG_SCRIPT=$REPO/scripts/postgres-for-tests.sh
PG_DIR=/tmp/execwatch-bench-pg.$$
PG_DB=execwatch_bench_$$
GOAL_SQLITE=5000

log() { printf '[bench-collector] %s\n' "$*" >&2; }
die() { printf '[bench-collector] ERROR: %s\n' "$*" >&2; exit 1; }
cmd() { printf '[bench-collector] $ %s\n' "$*" >&2; }

for v in SENDERS BATCH INCIDENTS; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "BENCH_$v must be a positive integer, got '${!v}'"
done
((INCIDENTS % BATCH == 0)) || die "BENCH_INCIDENTS ($INCIDENTS) must be a multiple of BENCH_BATCH ($BATCH)"
((INCIDENTS / BATCH >= SENDERS)) || die "fewer batches than senders"
for s in $STORAGES; do [[ $s == sqlite || $s == postgres ]] || die "unknown storage '$s' in BENCH_STORAGES"; done
for g in $GZIP_MODES; do [[ $g == off || $g == on ]] || die "BENCH_GZIP: 'off' and/or 'on', got '$g'"; done
[[ $DEDUPE == 0 || $DEDUPE == 1 ]] || die "BENCH_DEDUPE must be 0 or 1"

"$REPO/scripts/install-deps.sh" bench || die "cannot install what the benchmark needs"
if ! command -v openssl >/dev/null || { [[ $STORAGES == *postgres* ]] && [[ ! -x /usr/lib/postgresql/15/bin/initdb ]]; }; then
    "$REPO/scripts/install-deps.sh" test || die "cannot install openssl/PostgreSQL (install-deps.sh test)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/execwatch-bench-collector.XXXXXX")
STARTED_PIDS=()
COMMANDS=()
PG_STARTED=0
PG_PORT=
PG_DB_CREATED=0

pg_env() { EXECWATCH_TEST_PG_DIR=$PG_DIR EXECWATCH_TEST_PG_PORT=$PG_PORT "$@"; }
pg_admin() { # pg_admin SQL — as the postgres OS user over the bench cluster's unix socket
    runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR/run" \
        -p "$PG_PORT" -U postgres -d postgres -c "$1"
}

cleanup() {
    local rc=$? pid
    set +e
    for pid in "${STARTED_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            log "cleanup: stopping pid $pid"
            kill -TERM "$pid"; sleep 1; kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
            wait "$pid" 2>/dev/null
        fi
    done
    if ((PG_DB_CREATED)); then
        log "cleanup: DROP DATABASE $PG_DB"
        pg_admin "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || { log "cleanup: could not drop $PG_DB"; rc=1; }
    fi
    if ((PG_STARTED)); then
        log "cleanup: stopping and removing the bench's PostgreSQL cluster ($PG_DIR)"
        pg_env "$PG_SCRIPT" stop || { log "cleanup: $PG_SCRIPT stop failed"; rc=1; }
    fi
    if [[ ${BENCH_KEEP_WORK:-} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# 1. The collector, certificates
# ---------------------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
    cmd "(cd $REPO && swift build -c release --product execwatch-collector)"
    (cd "$REPO" && swift build -c release --product execwatch-collector) >"$WORK/build.log" 2>&1 || {
        tail -n 40 "$WORK/build.log" >&2
        die "swift build failed"
    }
fi
BIN_DIR=$(cd "$REPO" && swift build -c release --show-bin-path)
[[ -x $BIN_DIR/execwatch-collector ]] || die "no execwatch-collector binary at $BIN_DIR (build it, or unset BENCH_SKIP_BUILD)"
cp "$BIN_DIR/execwatch-collector" "$WORK/execwatch-collector"
COLLECTOR=$WORK/execwatch-collector
log "execwatch-collector: $BIN_DIR/execwatch-collector (copied to $COLLECTOR), built $(date -r "$BIN_DIR/execwatch-collector" '+%F %T')"

# shellcheck source=lib/collector-bench.sh
source "$REPO/scripts/lib/collector-bench.sh"
make_pki "$WORK/pki" || { cat "$WORK/pki/openssl.log" >&2; die "openssl failed"; }

# ---------------------------------------------------------------------------------------------
# The load generator
# ---------------------------------------------------------------------------------------------
cat >"$WORK/load.py" <<'EOF'
"""Concurrent HTTPS senders against POST /api/v1/incidents; see bench-collector.sh's header.

usage: load.py PORT CA TOKEN_FILE SENDERS BATCH INCIDENTS GZIP(0|1) PASSES(create[,dedupe])
               COLLECTOR_PID PG_POSTMASTER_PID(0 = none) OUT_JSON
Prints a report block per pass; writes the figures to OUT_JSON. Exit 1 on any failed request or
wrong reply counts.
"""
import gzip
import http.client
import json
import math
import multiprocessing as mp
import os
import resource
import ssl
import sys
import time
import traceback

(port, ca, token_prefix, senders, batch, incidents, use_gzip, passes, collector_pid, pg_pid, out) = sys.argv[1:]
port, senders, batch, incidents = int(port), int(senders), int(batch), int(incidents)
use_gzip, collector_pid, pg_pid = use_gzip == "1", int(collector_pid), int(pg_pid)
passes = passes.split(",")
# Sender i is agent bench-host-<i>, with its token in <token_prefix><i>.
tokens = [open(f"{token_prefix}{i}").read().strip() for i in range(senders)]
tag = int.from_bytes(os.urandom(4), "big")
HZ = os.sysconf("SC_CLK_TCK")
BASE_MS = 1795860000000  # 2026-11-28T10:00:00Z


def rfc3339(ms):
    s, m = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{m:03d}Z"


def incident(n, sender):
    host = f"bench-host-{sender:02d}"
    t = rfc3339(BASE_MS + n)
    port_ = 1024 + n % 60000
    sw = f"-z -w 1 10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255} {port_}"
    # the keys the agent writes (ExecEvent.writeJSON)
    event = {"eventType": "LINUX_PROCESS_EXEC", "eventTime": t, "hostName": host, "user": "alice",
             "procName": "nc", "swParam": sw, "procId": 1000 + n % 30000, "parentProcId": 999,
             "parentProcName": "bash", "exePath": "/usr/bin/nc.openbsd", "cwd": "/home/alice", "uid": 1000,
             "euid": 1000, "auid": 1000, "loginUser": "alice", "tty": "pts0", "auditKey": "execwatch",
             "args": ["nc"] + sw.split(" ")}
    return {"incidentId": f"{tag:08x}{n:024x}", "ruleId": "PH_Rule_TH_Linux_23",
            "ruleName": "Linux: Netcat Process Activity", "incidentType": "PH_RULE_TH_LINUX_23", "severity": 7,
            "category": "Security", "tactics": ["Execution"], "techniques": ["T1059.004"], "hostName": host,
            "attributes": {"hostName": host, "user": "alice", "procName": "nc", "swParam": sw},
            "count": 1, "firstSeen": t, "lastSeen": t, "version": 1, "agentId": f"bench-agent-{sender:02d}",
            "triggerEvents": [event]}


def bodies_for(sender):
    out = []
    for b in range(sender, incidents // batch, senders):
        raw = json.dumps([incident(n, sender) for n in range(b * batch, (b + 1) * batch)], separators=(",", ":")).encode()
        out.append((raw, gzip.compress(raw, 6) if use_gzip else raw))
    return out


def worker(sender, barrier, results):
    try:
        bodies = bodies_for(sender)
        context = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=120, context=context)
        conn.connect()
        connects = 1
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[sender]}"}
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        results.put(("ready", sender, sum(len(r) for r, _ in bodies), sum(len(z) for _, z in bodies), len(bodies),
                     conn.sock.version()))
        for name in passes:
            barrier.wait()
            r0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic_ns()
            reqs, errors = [], []
            sums = {"accepted": 0, "created": 0, "updated": 0, "unchanged": 0}
            for raw, body in bodies:
                if conn.sock is None:
                    connects += 1
                t0 = time.monotonic_ns()
                try:
                    conn.request("POST", "/api/v1/incidents", body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    t1 = time.monotonic_ns()
                except Exception as e:  # recorded; the connection is reopened for the next batch
                    t1 = time.monotonic_ns()
                    conn.close()
                    errors.append(f"{type(e).__name__}: {e}")
                    reqs.append((t0, t1))
                    continue
                reqs.append((t0, t1))
                if resp.status != 200:
                    errors.append(f"HTTP {resp.status}: {data[:300]!r}")
                    continue
                reply = json.loads(data)
                for k in sums:
                    sums[k] += int(reply.get(k, 0))
                expect = "created" if name == "create" else "unchanged"
                if reply.get("accepted") != batch or reply.get(expect) != batch:
                    errors.append(f"reply {data[:300]!r} for a batch of {batch} (expected {expect} = {batch})")
            r1, c1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic_ns()
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            results.put(("pass", sender, name, reqs, errors, sums, cpu, (c1 - c0) / 1e9, connects))
        conn.close()
    except Exception:
        results.put(("crash", sender, traceback.format_exc()))


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(") ", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def pg_ticks():
    """utime+stime of the postmaster and its children now alive: {pid: ticks}."""
    if not pg_pid:
        return {}
    try:
        out = {pg_pid: ticks(pg_pid)}
    except OSError:
        raise SystemExit(f"the PostgreSQL postmaster (pid {pg_pid}) is gone")
    try:
        children = open(f"/proc/{pg_pid}/task/{pg_pid}/children").read().split()
    except OSError:
        children = []
    for c in children:
        try:
            out[int(c)] = ticks(int(c))
        except (OSError, IndexError):
            pass
    return out


def host_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def hwm_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def pct(values, p):  # nearest rank
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def main():
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(senders + 1)
    results = ctx.Queue()
    g0 = time.monotonic()
    procs = [ctx.Process(target=worker, args=(s, barrier, results), daemon=True) for s in range(senders)]
    for p in procs:
        p.start()
    raw_bytes = sent_bytes = requests = 0
    tls = set()
    for _ in range(senders):
        msg = results.get()
        if msg[0] == "crash":
            print(f"sender {msg[1]} crashed:\n{msg[2]}", file=sys.stderr)
            barrier.abort()
            sys.exit(1)
        raw_bytes += msg[2]
        sent_bytes += msg[3]
        requests += msg[4]
        tls.add(msg[5])
    prep_s = time.monotonic() - g0
    print(f"load: {senders} senders, {incidents} incidents in {requests} requests of {batch}, bodies made in "
          f"{prep_s:.1f} s before the clock started: JSON {raw_bytes / requests / 1000:.1f} kB per request"
          + (f", gzip {sent_bytes / requests / 1000:.1f} kB sent" if use_gzip else ", sent uncompressed")
          + f"; {'/'.join(sorted(tls))}")
    summary = {"incidents": incidents, "requests": requests, "json_kB_per_request": raw_bytes / requests / 1000,
               "sent_kB_per_request": sent_bytes / requests / 1000, "passes": {}}
    failed = False
    for name in passes:
        b0 = host_busy()
        time.sleep(1)  # let the collector settle between passes; how busy is the host without us?
        b1 = host_busy()
        idle_busy = 100 * (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
        barrier.wait()
        m0, k0, p0, h0 = time.monotonic_ns(), ticks(collector_pid), pg_ticks(), host_busy()
        got = []
        while len(got) < senders:
            msg = results.get()
            if msg[0] == "crash":
                print(f"sender {msg[1]} crashed:\n{msg[2]}", file=sys.stderr)
                sys.exit(1)
            got.append(msg)
        m1, k1, p1, h1 = time.monotonic_ns(), ticks(collector_pid), pg_ticks(), host_busy()
        reqs = [r for m in got for r in m[3]]
        errors = [e for m in got for e in m[4]]
        sums = {k: sum(m[5][k] for m in got) for k in got[0][5]}
        wall = (max(t1 for _, t1 in reqs) - min(t0 for t0, _ in reqs)) / 1e9
        window = (m1 - m0) / 1e9
        lat = [(t1 - t0) / 1e6 for t0, t1 in reqs]
        sender_pct = [100 * m[6] / m[7] for m in got]
        connects = sum(m[8] for m in got)
        coll_pct = 100 * (k1 - k0) / HZ / window
        pg_pct = 100 * sum(v - p0.get(pid, 0) for pid, v in p1.items()) / HZ / window if pg_pid else None
        host_pct = 100 * (h1[0] - h0[0]) / max(1, h1[1] - h0[1])
        rate = incidents / wall
        res = {"wall_s": wall, "incidents_per_s": rate, "requests_per_s": len(reqs) / wall,
               "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": max(lat), "collector_cpu_pct": coll_pct,
               "postgres_cpu_pct": pg_pct, "collector_hwm_kB": hwm_kb(collector_pid), "host_busy_pct": host_pct, "host_busy_before_pct": idle_busy,
               "sender_cpu_pct": sender_pct, "connections": connects, "errors": len(errors), **sums}
        summary["passes"][name] = res
        what = "created" if name == "create" else "unchanged (dedupe)"
        print(f"pass {name}: {incidents} incidents in {wall:.2f} s = {rate:,.0f} incidents/s {what}; "
              f"{len(reqs) / wall:,.1f} requests/s")
        print(f"  request latency ms: p50 {pct(lat, 50):.1f}  p99 {pct(lat, 99):.1f}  max {max(lat):.1f}")
        print(f"  replies: accepted {sums['accepted']}, created {sums['created']}, updated {sums['updated']}, "
              f"unchanged {sums['unchanged']}; failed requests {len(errors)}")
        print(f"  collector CPU {coll_pct:.0f}% of one core, peak RSS (VmHWM) {res['collector_hwm_kB'] * 1024 / 1e6:.1f} MB"
              + (f"; PostgreSQL server CPU {pg_pct:.0f}%" if pg_pid else ""))
        busiest = max(sender_pct)
        print(f"  senders CPU {' '.join(f'{p:.0f}%' for p in sender_pct)} (each of one core; "
              f"{'SATURATED: a sender above 80% may be the bottleneck' if busiest > 80 else 'none above 80%: not the bottleneck'}); "
              f"host CPU busy {host_pct:.0f}% of {os.cpu_count()} cores ({idle_busy:.0f}% in the second before the pass,"
              f" without our load); TLS connections opened {connects}")
        if wall < 10 and name == "create":
            print(f"  NOTE: the load lasted {wall:.1f} s (< 10 s): raise BENCH_INCIDENTS for a steadier figure")
        for e in errors[:5]:
            print(f"  ERROR: {e}")
        expect = "created" if name == "create" else "unchanged"
        if errors or sums["accepted"] != incidents or sums[expect] != incidents:
            failed = True
            print(f"  FAILED: expected accepted = {expect} = {incidents}")
    for p in procs:
        p.join()
    with open(out, "w") as f:
        json.dump(summary, f)
    sys.exit(1 if failed else 0)


try:
    main()
except BaseException:
    for child in mp.active_children():  # senders waiting at the barrier would never return
        child.kill()
    raise
EOF

# ---------------------------------------------------------------------------------------------
# 2. Runs
# ---------------------------------------------------------------------------------------------
declare -A RESULT CHECK
FAILED=0
RUNS=()

postgres_database() { # a fresh $PG_DB on the bench's cluster; sets PG_URL, PG_POSTMASTER
    if ((!PG_STARTED)); then
        PG_PORT=$(free_port)
        local c="EXECWATCH_TEST_PG_DIR=$PG_DIR EXECWATCH_TEST_PG_PORT=$PG_PORT $PG_SCRIPT start"
        cmd "$c"
        COMMANDS+=("(postgres) $c")
        PG_STARTED=1
        pg_env "$PG_SCRIPT" start >/dev/null || return 1
    fi
    local url base query
    url=$(pg_env "$PG_SCRIPT" url) || return 1
    cmd "runuser -u postgres -- psql -h $PG_DIR/run -p $PG_PORT -d postgres -c 'CREATE DATABASE $PG_DB OWNER execwatch'"
    PG_DB_CREATED=1
    pg_admin "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || return 1
    pg_admin "CREATE DATABASE $PG_DB OWNER execwatch" || return 1
    COMMANDS+=("(postgres) runuser -u postgres -- psql -h $PG_DIR/run -p $PG_PORT -d postgres -c 'CREATE DATABASE $PG_DB OWNER execwatch'")
    base=${url%%\?*}
    query=${url#"$base"}
    PG_URL=${base%/*}/$PG_DB$query
    PG_POSTMASTER=$(head -n 1 "$PG_DIR/data/postmaster.pid")
}

bench_run() { # bench_run STORAGE GZIP
    local storage=$1 gz=$2 run="$1, gzip $2" dir=$WORK/$1-gzip-$2 storage_url pg_pid=0
    mkdir -p "$dir"
    case $storage in
        sqlite) storage_url=$dir/incidents.db ;;
        postgres)
            postgres_database || { log "no PostgreSQL database"; return 1; }
            storage_url=$PG_URL
            pg_pid=$PG_POSTMASTER
            ;;
    esac
    start_collector "$dir" "$storage_url" "($run) " || { stop_collector || true; return 1; }
    local sender
    for ((sender = 0; sender < SENDERS; sender++)); do
        add_credential agents "$(printf 'bench-host-%02d' "$sender")" "$dir/token-$sender" ||
            { stop_collector || true; return 1; }
    done
    local passes=create
    ((DEDUPE)) && passes=create,dedupe
    local c="$PY $WORK/load.py $COLLECTOR_PORT $CA_CERT $dir/token- $SENDERS $BATCH $INCIDENTS $([[ $gz == on ]] && echo 1 || echo 0) $passes $COLLECTOR_PID $pg_pid $dir/summary.json"
    cmd "$c"
    COMMANDS+=("($run) $c")
    local lrc=0
    # shellcheck disable=SC2086
    $c >"$dir/report.txt" || lrc=$?
    cat "$dir/report.txt" >&2
    RESULT[$run]=$(cat "$dir/report.txt")
    ((lrc == 0)) || { log "$run: the load generator reported failures (exit $lrc)"; FAILED=1; }
    kill -0 "$COLLECTOR_PID" 2>/dev/null || { log "$run: the collector died; its log:"; tail -n 20 "$COLLECTOR_LOG" >&2; return 1; }

    # What the collector holds
    local listing lines distinct sqlcount=""
    cmd "$COLLECTOR incidents --config $COLLECTOR_CONFIG --json --limit $((INCIDENTS + 1000)) | wc -l"
    listing=$("$COLLECTOR" incidents --config "$COLLECTOR_CONFIG" --json --limit $((INCIDENTS + 1000)) 2>"$dir/incidents.err" \
              | jq -r '.incidentId' 2>>"$dir/incidents.err") || { log "$run: incidents --json failed: $(tail -n 3 "$dir/incidents.err")"; FAILED=1; }
    lines=$(grep -c . <<<"$listing" || true)
    distinct=$(sort -u <<<"$listing" | grep -c . || true)
    CHECK[$run]="stored: incidents --json lists $lines incidents, $distinct distinct incidentIds (sent: $INCIDENTS distinct)"
    if [[ $storage == postgres ]]; then
        sqlcount=$(runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -X -At -h "$PG_DIR/run" -p "$PG_PORT" -U postgres \
                   -d "$PG_DB" -c "SELECT count(*), count(DISTINCT incident_id) FROM incidents" 2>&1) || true
        CHECK[$run]+="; SQL count(*)|count(DISTINCT incident_id) = $sqlcount"
        [[ $sqlcount == "$INCIDENTS|$INCIDENTS" ]] || { log "$run: SQL count $sqlcount, expected $INCIDENTS|$INCIDENTS"; FAILED=1; }
    else
        CHECK[$run]+="; SQLite files $(du -cb "$storage_url"* 2>/dev/null | awk 'END {printf "%.1f MB", $1/1e6}')"
    fi
    if [[ $lines != "$INCIDENTS" || $distinct != "$INCIDENTS" ]]; then
        log "$run: the collector holds $lines incidents ($distinct distinct), expected $INCIDENTS"
        CHECK[$run]+=" — LOST OR DUPLICATED"
        FAILED=1
    else
        CHECK[$run]+=" — exactly the incidents sent"
    fi
    local rc=0
    stop_collector || rc=$?
    ((rc == 0)) || { log "$run: the collector exited $rc; its log:"; tail -n 20 "$COLLECTOR_LOG" >&2; FAILED=1; }
    grep -iE 'error|warn' "$COLLECTOR_LOG" | head -n 5 | sed "s/^/[$run collector log] /" >&2 || true
}

for storage in $STORAGES; do
    for gz in $GZIP_MODES; do
        run="$storage, gzip $gz"
        RUNS+=("$run")
        log "run: $run ($INCIDENTS incidents, $SENDERS senders, batches of $BATCH)"
        bench_run "$storage" "$gz" || { FAILED=1; log "$run failed"; }
    done
done

# ---------------------------------------------------------------------------------------------
# 3. Report
# ---------------------------------------------------------------------------------------------
echo
echo "== execwatch-collector ingest: POST /api/v1/incidents over HTTPS (token auth), $SENDERS keep-alive senders =="
echo "host:   $(nproc) cores (shared: the senders, the collector and PostgreSQL all run here), kernel $(uname -r)," \
     "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $STORAGES == *postgres* ]] && echo "postgres: a private cluster made by postgres-for-tests.sh: fsync, synchronous_commit and" \
    "full_page_writes OFF — its commits are not durable, so its figures are not comparable with a durable setup"
echo "load:   $INCIDENTS distinct incidents per pass, batches of $BATCH, bodies made before the clock;" \
     "incidents/s = incidents / (first request start .. last reply end); percentiles: nearest rank"
for run in "${RUNS[@]}"; do
    echo
    echo "-- $run --"
    if [[ -n ${RESULT[$run]:-} ]]; then
        echo "${RESULT[$run]}"
        echo "${CHECK[$run]:-not verified}"
    else
        echo "FAILED (see the messages above)"
    fi
done
echo
echo "goal:"
[[ $STORAGES == *sqlite* ]] || echo "  SQLite >= $GOAL_SQLITE incidents/s: not run (BENCH_STORAGES=$STORAGES)"
for gz in $GZIP_MODES; do
    f=$WORK/sqlite-gzip-$gz/summary.json
    if [[ -s $f ]]; then
        rate=$(jq -r '.passes.create.incidents_per_s' "$f")
        printf '  SQLite (gzip %s): %.0f incidents/s created >= %d: %s\n' "$gz" "$rate" "$GOAL_SQLITE" \
            "$(awk -v r="$rate" -v g="$GOAL_SQLITE" 'BEGIN{print (r >= g ? "MET" : "MISSED")}')"
    elif [[ $STORAGES == *sqlite* ]]; then
        echo "  SQLite (gzip $gz): no figure (the run failed)"
    fi
done
echo
echo "commands:"
for c in "${COMMANDS[@]}"; do echo "  $c"; done
echo "script run time: $(awk -v a="$SCRIPT_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}') s"

if ((FAILED)); then
    log "at least one run failed"
    exit 1
fi
exit 0
