#!/usr/bin/env bash
# test-deb.sh — the Debian packages end to end on this machine (root; CI runs it after make test).
#
#   1. `make deb`, then lintian on both packages (no errors allowed; warnings are printed).
#   2. dpkg -i both (apt-get install -f if dependencies are missing); checks what postinst made
#      (the collector's user and group, state directories and modes, nothing enabled).
#   3. systemd-analyze security --offline=true on the installed units: exposure at most 3.0 for
#      the agent and 2.0 for the collector.
#   4. Starts both programs as their units would (no systemd runs here): ExecStart=, User=,
#      Group=, CapabilityBoundingSet=, NoNewPrivileges=, UMask=, Environment= and
#      RuntimeDirectory= read from the installed unit files and applied with setpriv, under
#      strace; packaging/test/check-trace.py then checks the trace against what the unit would
#      have enforced (SystemCallFilter=, MemoryDenyWriteExecute=, RestrictAddressFamilies=,
#      ProtectSystem=strict, ProtectHome=, PrivateDevices=, ProcSubset=).
#      The configuration goes into the installed /etc/execwatch/*.yaml: a throwaway CA and
#      server certificate (openssl), a token from `execwatch-collector agents add`, the agent's
#      audit key execwatch-deb-test. Runs real `nc`, waits for the incident at the collector,
#      stops both with SIGTERM. Then starts the agent again, SIGKILLs it and runs the unit's
#      ExecStopPost= (`execwatch audit restore`, also traced and checked). The agent holds the
#      audit lock shared with the tests and must leave kernel audit exactly as it found it.
#      Then the same in ebpf mode (`source: ebpf`): the unit's capabilities (CAP_BPF CAP_PERFMON
#      in the bounding set) load the probe, the capture thread keeps no capability, another
#      `nc` reaches the collector, audit is untouched throughout (enabled flag, pid, backlog,
#      rules: compared while the agent runs and after), its BPF program is gone after the stop,
#      and ExecStopPost= finds nothing to put back; both traces are checked as well.
#   5. Restores the shipped configuration and installs the packages again (an upgrade: the
#      journal, the store and the user stay), then purges both and checks that nothing of
#      theirs is left (files from dpkg -L, /etc/execwatch, state, /run/execwatch, the user).
#
# Refuses to run when execwatch or execwatch-collector is installed (or their directories or
# user exist): it would overwrite their configuration. On failure it purges what it installed.
# Environment: TEST_DEB_SKIP_MAKE=1 (use the packages already in dist/), TEST_DEB_KEEP_WORK=1
# (keep the work folder: logs, strace traces, lintian output).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
LOCK_PATH=/run/lock/execwatch-audit-tests.lock
KEY=execwatch-deb-test
HOST_NAME=execwatch-deb-test
RULE=PH_Rule_TH_Linux_23
AGENT_UNIT=/lib/systemd/system/execwatch.service
COLLECTOR_UNIT=/lib/systemd/system/execwatch-collector.service
MAX_AGENT_EXPOSURE=3.0
MAX_COLLECTOR_EXPOSURE=2.0

log() { echo "test-deb: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
FAILURES=0
fail() { log "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
ok() { log "ok: $*"; }

[[ $(id -u) -eq 0 ]] || die "run me as root: it installs packages and the agent reads kernel audit"

# --- what the test needs ----------------------------------------------------------------------
"$REPO/scripts/install-deps.sh" deb || die "cannot install what the test needs"

for p in execwatch execwatch-collector; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed"; then
        die "$p is installed ($(dpkg-query -W -f='${Status}' "$p")): this test would overwrite its configuration; dpkg --purge it first"
    fi
done
for path in /etc/execwatch /var/lib/execwatch /var/lib/execwatch-collector /run/execwatch/agent.sock; do
    [[ ! -e $path ]] || die "$path exists: another execwatch is installed or running here"
done
! getent passwd execwatch-collector >/dev/null || die "user execwatch-collector exists (left by an earlier install?)"
! getent group execwatch-collector >/dev/null || die "group execwatch-collector exists (left by an earlier install?)"

WORK=$(mktemp -d /tmp/test-deb.XXXXXX)
chmod 0711 "$WORK"
STARTED=() # strace_pid:program_pid of what start_unit started
INSTALLED=0
AUDIT_RECORDED=0
CREATED_RUN_DIR=0

# --- cleanup ----------------------------------------------------------------------------------
audit_state() {
    auditctl -s | awk '$1 == "enabled" || $1 == "pid" || $1 == "backlog_limit" || $1 == "backlog_wait_time"'
    echo "-- rules:"
    auditctl -l
}
audit_field() { auditctl -s | awk -v k="$1" '$1 == k {print $2}'; }

wait_pid() { # wait_pid PID — waits up to 30 s for our child PID to end, then SIGKILLs it; its status
    local pid=$1 i rc=0
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
        log "pid $pid did not stop within 30 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

restore_audit() {
    ((AUDIT_RECORDED)) || return 0
    AUDIT_RECORDED=0
    if auditctl -l | grep -q -- "key=$KEY\$"; then
        fail "rules with key $KEY left in the kernel: deleting them"
        auditctl -D -k "$KEY" >/dev/null
    fi
    [[ $(audit_field enabled) == "$BEFORE_ENABLED" ]] || { fail "audit enabled flag changed"; auditctl -e "$BEFORE_ENABLED" >/dev/null; }
    [[ $(audit_field backlog_wait_time) == "$BEFORE_WAIT" ]] || { fail "backlog_wait_time changed"; auditctl --backlog_wait_time "$BEFORE_WAIT" >/dev/null; }
    [[ $(audit_field backlog_limit) == "$BEFORE_BACKLOG" ]] || { fail "backlog_limit changed"; auditctl -b "$BEFORE_BACKLOG" >/dev/null; }
    local after
    after=$(audit_state)
    if [[ $after == "$BEFORE_AUDIT" ]]; then
        ok "kernel audit as found (enabled $BEFORE_ENABLED, pid $BEFORE_PID, backlog_limit $BEFORE_BACKLOG, backlog_wait_time $BEFORE_WAIT)"
    else
        fail "kernel audit differs from before:"$'\n'"$(diff <(echo "$BEFORE_AUDIT") <(echo "$after"))"
    fi
}

cleanup() {
    local rc=$? pair
    set +e
    for pair in "${STARTED[@]+"${STARTED[@]}"}"; do # strace_pid:program_pid
        kill -0 "${pair%%:*}" 2>/dev/null || continue
        log "cleanup: stopping pid ${pair#*:}"
        kill -TERM "${pair#*:}" 2>/dev/null
        wait_pid "${pair%%:*}"
    done
    restore_audit
    ((CREATED_RUN_DIR)) && rm -rf /run/execwatch
    if ((INSTALLED)); then
        log "cleanup: purging the packages"
        dpkg --purge execwatch-collector execwatch >/dev/null 2>&1
    fi
    if [[ ${TEST_DEB_KEEP_WORK:-} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    ((FAILURES)) && rc=1
    if ((rc == 0)); then log "PASS"; else log "FAILED ($FAILURES failures, exit $rc)"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. build, lintian --------------------------------------------------------------------------
VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
if [[ ${TEST_DEB_SKIP_MAKE:-} != 1 ]]; then
    log "make deb"
    start=$SECONDS
    make deb
    log "make deb took $((SECONDS - start)) s"
fi
DEBS=("dist/execwatch_${VERSION}_${ARCH}.deb" "dist/execwatch-collector_${VERSION}_${ARCH}.deb")
for deb in "${DEBS[@]}"; do [[ -f $deb ]] || die "$deb is missing"; done
ls -l "${DEBS[@]}" >&2

log "lintian ${DEBS[*]}"
if lintian --fail-on error --display-info "${DEBS[@]}" >"$WORK/lintian.txt" 2>&1; then
    ok "lintian: no errors"
else
    fail "lintian reports errors"
fi
sed 's/^/    /' "$WORK/lintian.txt" >&2

# --- 2. install -------------------------------------------------------------------------------
for deb in "${DEBS[@]}"; do # which of the packages' paths existed before (shared directories)
    dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$'
done | sort -u >"$WORK/package-paths"
while read -r path; do [[ -e $path ]] && echo "$path"; done <"$WORK/package-paths" >"$WORK/existed-before"

log "dpkg -i ${DEBS[*]}"
INSTALLED=1
if ! dpkg -i "${DEBS[@]}" >"$WORK/dpkg-install.txt" 2>&1; then
    cat "$WORK/dpkg-install.txt" >&2
    log "dpkg -i failed: apt-get install -f"
    DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >/dev/null || die "apt-get install -f failed"
fi
sed 's/^/    /' "$WORK/dpkg-install.txt" >&2
for p in execwatch execwatch-collector; do
    [[ $(dpkg-query -W -f='${Status}' "$p") == "install ok installed" ]] || die "$p is not installed"
done
ok "installed: $(dpkg-query -W -f='${Package} ${Version}, Depends: ${Depends}\n' execwatch execwatch-collector | tr '\n' ';')"

expect_stat() { # expect_stat PATH MODE OWNER GROUP
    local got
    got=$(stat -c '%a %U %G' "$1" 2>/dev/null || echo missing)
    if [[ $got == "$2 $3 $4" ]]; then ok "$1: $got"; else fail "$1: $got, expected $2 $3 $4"; fi
}
passwd_entry=$(getent passwd execwatch-collector || true)
if [[ -n $passwd_entry ]]; then
    IFS=: read -r _ _ uid gid _ home shell <<<"$passwd_entry"
    if ((uid < 1000)) && [[ $shell == /usr/sbin/nologin && $home == /var/lib/execwatch-collector ]]; then
        ok "system user execwatch-collector ($uid:$gid, $home, $shell)"
    else
        fail "user execwatch-collector: $passwd_entry"
    fi
else
    fail "no user execwatch-collector"
fi
getent group execwatch-collector >/dev/null && ok "group execwatch-collector" || fail "no group execwatch-collector"
expect_stat /var/lib/execwatch 700 root root
expect_stat /var/lib/execwatch-collector 750 execwatch-collector execwatch-collector
expect_stat /etc/execwatch/collector.yaml 640 root execwatch-collector
expect_stat /etc/execwatch/agent.yaml 644 root root
expect_stat /etc/execwatch/rules.d 755 root root
expect_stat /etc/audit/plugins.d/execwatch.conf 644 root root
grep -q '^active = no' /etc/audit/plugins.d/execwatch.conf && ok "the auditd plugin entry is inactive" || fail "the auditd plugin entry is active"
if ls /etc/systemd/system/*.wants/execwatch*.service >/dev/null 2>&1; then
    fail "a unit was enabled on installation: $(ls /etc/systemd/system/*.wants/execwatch*.service)"
else
    ok "neither unit is enabled"
fi
for p in execwatch execwatch-collector; do
    [[ -s /usr/share/man/man1/$p.1.gz ]] && ok "man page $p.1" || fail "no man page $p.1"
    /usr/bin/$p --help >/dev/null 2>&1 && ok "/usr/bin/$p --help runs" || fail "/usr/bin/$p --help fails"
done
if /usr/bin/execwatch rules list 2>/dev/null | grep -q "$RULE"; then
    ok "execwatch rules list: the shipped rules (/usr/share/execwatch/rules) include $RULE"
else
    fail "execwatch rules list does not show $RULE"
fi

# --- 3. exposure --------------------------------------------------------------------------------
check_exposure() { # check_exposure UNIT MAX
    local line score
    line=$(systemd-analyze security --offline=true --no-pager "$1" 2>&1 | grep 'Overall exposure level' || true)
    log "systemd-analyze security --offline=true $1: $line"
    score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
    [[ -n $score ]] || { fail "no exposure level for $1"; return; }
    if awk -v s="$score" -v m="$2" 'BEGIN { exit !(s <= m) }'; then ok "exposure $score <= $2"; else fail "exposure of $1 is $score > $2"; fi
}
check_exposure "$AGENT_UNIT" "$MAX_AGENT_EXPOSURE"
check_exposure "$COLLECTOR_UNIT" "$MAX_COLLECTOR_EXPOSURE"

# --- 4. both programs as their units run them -------------------------------------------------
unit_get() { # unit_get UNIT KEY — the last value of KEY in the unit's [Service] section
    awk -v key="$2" '
        /^\[/ { service = ($0 == "[Service]") }
        service && index($0, key "=") == 1 { value = substr($0, length(key) + 2); found = 1 }
        END { if (found) print value }' "$1"
}
unit_all() { # unit_all UNIT KEY — every value of KEY, one per line
    awk -v key="$2" '/^\[/ { service = ($0 == "[Service]") } service && index($0, key "=") == 1 { print substr($0, length(key) + 2) }' "$1"
}

# start_unit UNIT LOG TRACE [KEY] — starts the unit's ExecStart= (or KEY, e.g. ExecStopPost=) as
# systemd would (see the header), under strace; leaves the program's pid in UNIT_PID (ExecStart=)
# and strace's in UNIT_STRACE_PID (wait_pid it for a command that ends by itself).
start_unit() {
    local unit=$1 out=$2 trace=$3 key=${4:-ExecStart} exec_start user group caps umask_value nnp runtime
    local -a command setpriv_args environment
    exec_start=$(unit_get "$unit" "$key")
    exec_start=${exec_start#[-@+!]}
    read -r -a command <<<"$exec_start"
    user=$(unit_get "$unit" User)
    group=$(unit_get "$unit" Group)
    caps=$(unit_get "$unit" CapabilityBoundingSet)
    umask_value=$(unit_get "$unit" UMask)
    nnp=$(unit_get "$unit" NoNewPrivileges)
    runtime=$(unit_get "$unit" RuntimeDirectory)
    environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin)
    setpriv_args=()
    if [[ -n $user ]]; then
        setpriv_args+=(--reuid="$user" --regid="${group:-$user}" --init-groups)
        environment+=(USER="$user" LOGNAME="$user" HOME="$(getent passwd "$user" | cut -d: -f6)" SHELL=/usr/sbin/nologin)
    fi
    local bounding=-all cap
    for cap in $caps; do
        cap=${cap#CAP_}
        bounding+=",+${cap,,}"
    done
    setpriv_args+=(--bounding-set="$bounding" --inh-caps=-all)
    [[ $nnp == yes || $nnp == true ]] && setpriv_args+=(--no-new-privs)
    local assignment
    while read -r assignment; do
        [[ -n $assignment ]] && environment+=($assignment)
    done < <(unit_all "$unit" Environment)
    if [[ -n $runtime ]]; then
        local mode
        mode=$(unit_get "$unit" RuntimeDirectoryMode)
        mkdir -p "/run/$runtime" # as systemd: created, or reused with its mode and owner set
        chmod "${mode:-0755}" "/run/$runtime"
        [[ -n $user ]] && chown "$user:${group:-$user}" "/run/$runtime"
        CREATED_RUN_DIR=1
    fi
    log "starting ${command[*]} (setpriv ${setpriv_args[*]}; umask ${umask_value:-0022}; env -i ${environment[*]}) under strace"
    (
        cd /
        umask "${umask_value:-0022}"
        exec 9>&- # not the audit lock: this shell holds it
        exec strace -f -qq -y -s 128 -o "$trace" \
            setpriv "${setpriv_args[@]}" env -i "${environment[@]}" "${command[@]}"
    ) >"$out" 2>&1 &
    local strace_pid=$! i
    UNIT_STRACE_PID=$strace_pid
    UNIT_PID=
    if [[ $key != ExecStart ]]; then
        STARTED+=("$strace_pid:$strace_pid")
        return 0
    fi
    for ((i = 0; i < 100; i++)); do
        UNIT_PID=$(pgrep -P "$strace_pid" | head -1 || true)
        if [[ -n $UNIT_PID && $(readlink "/proc/$UNIT_PID/exe" 2>/dev/null) == "${command[0]}" ]]; then
            STARTED+=("$strace_pid:$UNIT_PID")
            return 0
        fi
        sleep 0.1
    done
    STARTED+=("$strace_pid:$strace_pid")
    fail "${command[*]} did not start:"$'\n'"$(cat "$out")"
    return 1
}

# Configuration: a throwaway CA and a server certificate for 127.0.0.1, readable by the collector.
TLS=$WORK/tls
mkdir -p "$TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=test-deb CA" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TLS/collector.key" -out "$TLS/collector.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$TLS/collector.ext"
openssl x509 -req -in "$TLS/collector.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
    -extfile "$TLS/collector.ext" -out "$TLS/collector.pem" 2>/dev/null
chown -R root:execwatch-collector "$TLS"
chmod 0750 "$TLS"
chmod 0640 "$TLS"/*
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

mkdir -p "$WORK/shipped"
cp -p /etc/execwatch/agent.yaml /etc/execwatch/collector.yaml "$WORK/shipped/"
# Written in place: the conffiles keep their owner and mode.
cat >/etc/execwatch/collector.yaml <<EOF
# written by scripts/test-deb.sh
listen: 127.0.0.1:$PORT
tls:
  certFile: $TLS/collector.pem
  keyFile: $TLS/collector.key
EOF
log "execwatch-collector agents add $HOST_NAME (as the collector's user)"
umask 0077
runuser -u execwatch-collector -- /usr/bin/execwatch-collector agents add "$HOST_NAME" \
    --config /etc/execwatch/collector.yaml >"$WORK/agents-add.txt" 2>&1 ||
    die "agents add failed: $(cat "$WORK/agents-add.txt")"
tail -1 "$WORK/agents-add.txt" >"$WORK/agent.token"
chmod 0600 "$WORK/agent.token"
umask 0022
[[ -s $WORK/agent.token ]] || die "agents add printed no token"
write_agent_configuration() { # write_agent_configuration SOURCE
    cat >/etc/execwatch/agent.yaml <<EOF
# written by scripts/test-deb.sh
hostName: $HOST_NAME
# named: auto would pick ebpf; one run checks the agent's audit handling, the other ebpf.
source: $1
audit:
  key: $KEY
metrics:
  listen: off
forward:
  url: https://127.0.0.1:$PORT
  caFile: $TLS/ca.pem
  tokenFile: $WORK/agent.token
EOF
}
write_agent_configuration audit-unicast

start_unit "$COLLECTOR_UNIT" "$WORK/collector.log" "$WORK/collector.trace" || exit 1
COLLECTOR_PID=$UNIT_PID
COLLECTOR_STRACE=$UNIT_STRACE_PID
for ((i = 0; i < 300; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$COLLECTOR_STRACE" 2>/dev/null || break
    sleep 0.1
done
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    ok "collector (pid $COLLECTOR_PID, user $(ps -o user= -p "$COLLECTOR_PID")) listens on 127.0.0.1:$PORT"
else
    die "the collector does not listen on $PORT:"$'\n'"$(cat "$WORK/collector.log")"
fi

log "waiting for the audit lock $LOCK_PATH"
mkdir -p "$(dirname "$LOCK_PATH")"
exec 9>"$LOCK_PATH"
flock 9
BEFORE_AUDIT=$(audit_state)
BEFORE_ENABLED=$(audit_field enabled)
BEFORE_PID=$(audit_field pid)
BEFORE_BACKLOG=$(audit_field backlog_limit)
BEFORE_WAIT=$(audit_field backlog_wait_time)
AUDIT_RECORDED=1
log "holding the audit lock; audit before: enabled $BEFORE_ENABLED, pid $BEFORE_PID, backlog_limit $BEFORE_BACKLOG, backlog_wait_time $BEFORE_WAIT, rules: $(auditctl -l | tr '\n' ' ')"
! auditctl -l | grep -q -- "key=$KEY\$" || die "rules with key $KEY are already loaded: auditctl -D -k $KEY"

# wait_for_status PID STRACE_PID LOG — until the agent answers status with its source running
# (sets STATUS, its JSON); dies when it does not within 60 s.
wait_for_status() {
    local pid=$1 strace_pid=$2 agent_log=$3 i
    STATUS=
    for ((i = 0; i < 600; i++)); do
        STATUS=$(/usr/bin/execwatch status --json 2>/dev/null) &&
            [[ $(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("sourceRunning"))' "$STATUS") == True ]] &&
            break
        STATUS=
        kill -0 "$strace_pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n $STATUS ]] || die "the agent does not answer status on /run/execwatch/agent.sock:"$'\n'"$(cat "$agent_log")"
    ok "agent (pid $pid) answers on /run/execwatch/agent.sock: $(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print("source", s.get("source"), "-", s.get("sourceReason"), "- capture thread capabilities", s.get("capabilities"))' "$STATUS" 2>/dev/null || echo "status ok")"
    grep "CapBnd\|CapEff\|NoNewPrivs" "/proc/$pid/status" | tr -s '\t\n' '  ' | sed 's/^/test-deb: agent /' >&2
    echo >&2
}

# expect_incident SWPARAM AGENT_LOG — runs `nc SWPARAM` and waits for its incident (procName nc,
# that swParam) at the collector and in the agent's journal.
expect_incident() {
    local swparam=$1 agent_log=$2 found= i
    log "running nc $swparam (real netcat: $(readlink -f "$(command -v nc)"))"
    # shellcheck disable=SC2086
    nc $swparam >/dev/null 2>&1 || true
    for ((i = 0; i < 600; i++)); do
        runuser -u execwatch-collector -- /usr/bin/execwatch-collector incidents --config /etc/execwatch/collector.yaml \
            --json >"$WORK/incidents.jsonl" 2>/dev/null || true
        if python3 - "$WORK/incidents.jsonl" "$RULE" "$HOST_NAME" "$swparam" <<'PY'; then
import json, sys
path, rule, host, swparam = sys.argv[1:5]
for line in open(path):
    line = line.strip()
    if not line:
        continue
    incident = json.loads(line)
    attributes = incident.get("attributes", {})
    if incident.get("ruleId") == rule and incident.get("hostName") == host \
            and attributes.get("procName") == "nc" and attributes.get("swParam") == swparam:
        print(f'test-deb: incident {incident["incidentId"]} {rule} on {host}: procName nc, swParam '
              f'{swparam!r}, count {incident.get("count")}', file=sys.stderr)
        sys.exit(0)
sys.exit(1)
PY
            found=1
            break
        fi
        sleep 0.1
    done
    if [[ -n $found ]]; then
        ok "the incident of nc $swparam arrived at the collector ($((i / 10)).$((i % 10)) s after nc)"
    else
        fail "no $RULE incident of nc $swparam from $HOST_NAME at the collector within 60 s"
        log "agent log:"; sed 's/^/    /' "$agent_log" >&2
        log "collector log:"; sed 's/^/    /' "$WORK/collector.log" >&2
    fi
    /usr/bin/execwatch incidents --json 2>/dev/null | grep -qF "\"swParam\":\"$swparam\"" &&
        ok "the incident is in the agent's journal (/var/lib/execwatch)" || fail "execwatch incidents does not show nc $swparam"
}

start_unit "$AGENT_UNIT" "$WORK/agent.log" "$WORK/agent.trace" || exit 1
AGENT_PID=$UNIT_PID
AGENT_STRACE=$UNIT_STRACE_PID
wait_for_status "$AGENT_PID" "$AGENT_STRACE" "$WORK/agent.log"
expect_incident "-h" "$WORK/agent.log"

log "stopping the agent (SIGTERM to pid $AGENT_PID)"
kill -TERM "$AGENT_PID"
rc=0
wait_pid "$AGENT_STRACE" || rc=$?
((rc == 0)) && ok "the agent stopped (exit 0)" || fail "the agent exited with status $rc"
[[ ! -e /var/lib/execwatch/audit-state ]] && ok "a clean stop removed the audit state record" ||
    fail "the audit state record is left after a clean stop"

log "the agent again, SIGKILLed, then the unit's ExecStopPost= as systemd runs it after a crash"
start_unit "$AGENT_UNIT" "$WORK/agent-killed.log" "$WORK/agent-killed.trace" || exit 1
for ((i = 0; i < 600; i++)); do
    /usr/bin/execwatch status --json >/dev/null 2>&1 && break
    kill -0 "$UNIT_STRACE_PID" 2>/dev/null || break
    sleep 0.1
done
kill -KILL "$UNIT_PID"
wait_pid "$UNIT_STRACE_PID" || true
[[ -e /var/lib/execwatch/audit-state ]] && ok "the killed agent left its audit state record" ||
    fail "the killed agent left no audit state record"
start_unit "$AGENT_UNIT" "$WORK/stop-post.log" "$WORK/stop-post.trace" ExecStopPost || exit 1
rc=0
wait_pid "$UNIT_STRACE_PID" || rc=$?
if ((rc == 0)) && grep -q "put back" "$WORK/stop-post.log" && [[ ! -e /var/lib/execwatch/audit-state ]]; then
    ok "ExecStopPost= put audit back: $(cat "$WORK/stop-post.log")"
else
    fail "ExecStopPost= exited $rc: $(cat "$WORK/stop-post.log")"
fi
rm -f /run/execwatch/agent.sock
restore_audit

# ebpf mode: the same unit, `source: ebpf`; audit must stay exactly as found (still under the lock).
AUDIT_RECORDED=1
write_agent_configuration ebpf
# probe_ids PID [IDS_BEFORE] — the ids of the BPF programs PID holds (bpftool names the processes
# holding each); a bpftool built without that: the programs named exec_probe not in IDS_BEFORE.
probe_ids() {
    bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
pid, before = int(sys.argv[1]), set(sys.argv[2].split())
programs = json.load(sys.stdin)
if any("pids" in p for p in programs):
    held = [p for p in programs if any(h.get("pid") == pid for h in p.get("pids", []))]
else:
    held = [p for p in programs if p.get("name") == "exec_probe" and str(p["id"]) not in before]
print(" ".join(str(p["id"]) for p in held))' "$1" "${2:-}"
}
PROBES_BEFORE=$(bpftool -j prog show 2>/dev/null | python3 -c 'import json, sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))')
start_unit "$AGENT_UNIT" "$WORK/agent-ebpf.log" "$WORK/agent-ebpf.trace" || exit 1
AGENT_PID=$UNIT_PID
AGENT_STRACE=$UNIT_STRACE_PID
wait_for_status "$AGENT_PID" "$AGENT_STRACE" "$WORK/agent-ebpf.log"
if python3 -c '
import json, sys
s = json.loads(sys.argv[1])
sys.exit(0 if s.get("source") == "ebpf" and s.get("capabilities") == [] else 1)' "$STATUS"; then
    ok "the agent captures with ebpf and its capture thread keeps no capability"
else
    fail "not ebpf, or the capture thread keeps capabilities: $STATUS"
fi
PROBES=$(probe_ids "$AGENT_PID" "$PROBES_BEFORE")
[[ -n $PROBES ]] && ok "the agent holds BPF program(s) $PROBES: $(bpftool prog show id "${PROBES%% *}" | head -1)" ||
    fail "bpftool shows no BPF program held by the agent (pid $AGENT_PID)"
expect_incident "-z -w 1 127.0.0.1 9" "$WORK/agent-ebpf.log"
during=$(audit_state)
[[ $during == "$BEFORE_AUDIT" ]] && ok "audit untouched while the agent runs in ebpf mode" ||
    fail "audit changed while the agent runs in ebpf mode:"$'\n'"$(diff <(echo "$BEFORE_AUDIT") <(echo "$during"))"
log "stopping the agent (SIGTERM to pid $AGENT_PID)"
kill -TERM "$AGENT_PID"
rc=0
wait_pid "$AGENT_STRACE" || rc=$?
((rc == 0)) && ok "the agent stopped (exit 0)" || fail "the agent exited with status $rc"
left_probes=
for id in $PROBES; do bpftool prog show id "$id" >/dev/null 2>&1 && left_probes+=" $id"; done
[[ -n $PROBES && -z $left_probes ]] && ok "its BPF program(s) $PROBES are gone after the stop" ||
    fail "BPF program(s) left after the stop:${left_probes:- (none was seen)}"
start_unit "$AGENT_UNIT" "$WORK/stop-post-ebpf.log" "$WORK/stop-post-ebpf.trace" ExecStopPost || exit 1
rc=0
wait_pid "$UNIT_STRACE_PID" || rc=$?
((rc == 0)) && ok "ExecStopPost= after ebpf mode: $(cat "$WORK/stop-post-ebpf.log")" ||
    fail "ExecStopPost= after ebpf mode exited $rc: $(cat "$WORK/stop-post-ebpf.log")"
restore_audit # checks (and says) that audit is as found
exec 9>&-
rm -rf /run/execwatch
CREATED_RUN_DIR=0
log "stopping the collector (SIGTERM to pid $COLLECTOR_PID)"
kill -TERM "$COLLECTOR_PID"
rc=0
wait_pid "$COLLECTOR_STRACE" || rc=$?
((rc == 0)) && ok "the collector stopped (exit 0)" || fail "the collector exited with status $rc"
if grep -qiE 'critical|error' "$WORK/agent.log" "$WORK/agent-ebpf.log" "$WORK/collector.log"; then
    log "errors logged:"
    grep -iE 'critical|error' "$WORK/agent.log" "$WORK/agent-ebpf.log" "$WORK/collector.log" | sed 's/^/    /' >&2
fi

for pair in "$AGENT_UNIT:$WORK/agent.trace:/usr/bin/execwatch" "$AGENT_UNIT:$WORK/stop-post.trace:/usr/bin/execwatch" \
    "$AGENT_UNIT:$WORK/agent-ebpf.trace:/usr/bin/execwatch" "$AGENT_UNIT:$WORK/stop-post-ebpf.trace:/usr/bin/execwatch" \
    "$COLLECTOR_UNIT:$WORK/collector.trace:/usr/bin/execwatch-collector"; do
    IFS=: read -r unit trace program <<<"$pair"
    if python3 packaging/test/check-trace.py "$unit" "$trace" "$program" >"$WORK/check.txt" 2>&1; then
        ok "$program stayed within $unit"
    else
        fail "$program did things $unit forbids"
    fi
    sed 's/^/    /' "$WORK/check.txt" >&2
done

# --- 5. upgrade, purge ----------------------------------------------------------------------------
cp -p "$WORK/shipped/agent.yaml" "$WORK/shipped/collector.yaml" /etc/execwatch/
log "dpkg -i again (an upgrade to the same version)"
dpkg -i --force-confold "${DEBS[@]}" >"$WORK/dpkg-upgrade.txt" 2>&1 || { cat "$WORK/dpkg-upgrade.txt" >&2; fail "reinstalling failed"; }
for path in /var/lib/execwatch/agent.db /var/lib/execwatch/agent-id /var/lib/execwatch-collector/collector.db; do
    [[ -e $path ]] && ok "kept across the upgrade: $path" || fail "lost in the upgrade: $path"
done
getent passwd execwatch-collector >/dev/null && ok "kept across the upgrade: user execwatch-collector" || fail "user lost in the upgrade"
expect_stat /etc/execwatch/collector.yaml 640 root execwatch-collector

dpkg -L execwatch execwatch-collector | sort -u >"$WORK/dpkg-L"
log "dpkg --purge execwatch-collector execwatch"
dpkg --purge execwatch-collector execwatch >"$WORK/dpkg-purge.txt" 2>&1 || { cat "$WORK/dpkg-purge.txt" >&2; fail "dpkg --purge failed"; }
INSTALLED=0
sed 's/^/    /' "$WORK/dpkg-purge.txt" >&2
left=()
while read -r path; do
    [[ -z $path || $path == /. ]] && continue
    [[ -e $path || -L $path ]] || continue
    grep -qxF -- "$path" "$WORK/existed-before" && continue
    left+=("$path")
done < <(cat "$WORK/dpkg-L" "$WORK/package-paths")
for path in /etc/execwatch /var/lib/execwatch /var/lib/execwatch-collector /run/execwatch; do
    [[ -e $path ]] && left+=("$path")
done
left+=($(find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-user-helper-enabled \
    -name '*execwatch*' 2>/dev/null || true))
dpkg-statoverride --list | grep -q execwatch && left+=("statoverride: $(dpkg-statoverride --list | grep execwatch)")
getent passwd execwatch-collector >/dev/null && left+=("user execwatch-collector")
getent group execwatch-collector >/dev/null && left+=("group execwatch-collector")
if ((${#left[@]})); then
    fail "left after purge: ${left[*]}"
else
    ok "nothing left after purge (files, /etc/execwatch, state, /run/execwatch, user, group, statoverride, unit state)"
fi
