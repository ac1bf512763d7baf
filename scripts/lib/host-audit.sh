# host-audit.sh — sourced by the benchmark scripts that touch kernel audit (bench-live.sh,
# bench-latency.sh). Takes the audit lock shared with the tests, records the host's audit state
# (enabled flag, pid, backlog settings, rules), refuses to run beside another audit daemon or
# leftover rules with our key, and on exit stops what the script started (STARTED_PIDS), deletes
# exactly the rules with key $KEY, hands back the recorded settings and checks that the state is
# as before. Expects: log, die, LOCK_PATH, KEY, WORK (removed on exit unless BENCH_KEEP_WORK=1).
# With HOST_AUDIT_UNTOUCHED=1 (a run whose agent does not touch audit: a proc source) it takes no
# lock and records nothing: it only stops what the script started and removes WORK on exit.

# audit_state — enabled, pid, backlog_limit, backlog_wait_time (one per line) and the rule list.
audit_state() {
    auditctl -s | awk '$1 == "enabled" || $1 == "pid" || $1 == "backlog_limit" || $1 == "backlog_wait_time"'
    echo "-- rules:"
    auditctl -l
}
audit_field() { auditctl -s | awk -v k="$1" '$1 == k {print $2}'; }

STARTED_PIDS=()
STATE_RECORDED=0
CLEANUP_FAILED=0

stop_pid() { # stop_pid PID — SIGTERM, wait up to 20 s, then SIGKILL; returns the exit status
    local pid=$1 i rc=0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return "$rc"; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        # a zombie child of ours still answers kill -0: check its state
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
        log "pid $pid did not stop within 20 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

cleanup() {
    local rc=$?
    set +e
    for pid in "${STARTED_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && { log "cleanup: stopping pid $pid"; stop_pid "$pid"; }
    done
    if ((STATE_RECORDED)); then
        if auditctl -l | grep -q -- "key=$KEY\$"; then
            log "cleanup: deleting rules with key $KEY"
            auditctl -D -k "$KEY" >/dev/null
        fi
        [[ $(audit_field enabled) == "$BEFORE_ENABLED" ]] || { log "cleanup: auditctl -e $BEFORE_ENABLED"; auditctl -e "$BEFORE_ENABLED" >/dev/null; }
        [[ $(audit_field backlog_wait_time) == "$BEFORE_WAIT" ]] || { log "cleanup: auditctl --backlog_wait_time $BEFORE_WAIT"; auditctl --backlog_wait_time "$BEFORE_WAIT" >/dev/null; }
        [[ $(audit_field backlog_limit) == "$BEFORE_BACKLOG" ]] || { log "cleanup: auditctl -b $BEFORE_BACKLOG"; auditctl -b "$BEFORE_BACKLOG" >/dev/null; }
        local after
        after=$(audit_state)
        if [[ $after == "$BEFORE_STATE" ]]; then
            echo "host audit state after the benchmark: identical to before (enabled $BEFORE_ENABLED, pid $BEFORE_PID," \
                 "backlog_limit $BEFORE_BACKLOG, backlog_wait_time $BEFORE_WAIT, rules: $(auditctl -l | tr '\n' ' '))"
        else
            log "HOST AUDIT STATE DIFFERS FROM BEFORE:"
            diff <(echo "$BEFORE_STATE") <(echo "$after") >&2
            CLEANUP_FAILED=1
        fi
    fi
    if [[ ${BENCH_KEEP_WORK:-} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    ((CLEANUP_FAILED)) && rc=1
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ${HOST_AUDIT_UNTOUCHED:-} != 1 ]]; then
    log "waiting for the audit lock $LOCK_PATH"
    mkdir -p "$(dirname "$LOCK_PATH")"
    exec 9>"$LOCK_PATH"
    flock 9
    log "holding the audit lock"

    BEFORE_STATE=$(audit_state)
    BEFORE_ENABLED=$(audit_field enabled)
    BEFORE_PID=$(audit_field pid)
    BEFORE_BACKLOG=$(audit_field backlog_limit)
    BEFORE_WAIT=$(audit_field backlog_wait_time)
    STATE_RECORDED=1
    log "audit state before: enabled $BEFORE_ENABLED, pid $BEFORE_PID, backlog_limit $BEFORE_BACKLOG, backlog_wait_time $BEFORE_WAIT, rules: $(auditctl -l | tr '\n' ' ')"
    if [[ $BEFORE_PID != 0 ]] && kill -0 "$BEFORE_PID" 2>/dev/null; then
        STATE_RECORDED=0
        die "an audit daemon is registered (pid $BEFORE_PID, $(cat /proc/"$BEFORE_PID"/comm 2>/dev/null)); not benchmarking beside it"
    fi
    if auditctl -l | grep -q -- "key=$KEY\$"; then
        STATE_RECORDED=0
        die "rules with key $KEY are already loaded (left by a crashed run?): remove them with auditctl -D -k $KEY"
    fi
fi

ew_status() { "$EXECWATCH" status --json --socket "$1" 2>/dev/null; }

# start_agent MODE STATE_DIR SOCKET LOG LABEL — starts `execwatch run` (metrics off, key $KEY,
# rules from $AGENT_RULES: rule files or directories separated by spaces, default the shipped ones),
# prints and records the command (cmd, COMMANDS with LABEL), waits up to 20 s until it answers
# status with its source running (set up: an exec from then on is seen, and the figures it reports
# are a baseline), and leaves its pid in AGENT_PID (also in STARTED_PIDS). Returns 1 when it did
# not start.
start_agent() {
    local mode=$1 state=$2 socket=$3 agent_log=$4 label=$5 i path rules=()
    for path in ${AGENT_RULES:-$REPO/rules}; do rules+=(--rules "$path"); done
    local c="EXECWATCH_METRICS_LISTEN=off EXECWATCH_AUDIT_KEY=$KEY $EXECWATCH run --source $mode --state-dir $state --status-socket $socket ${rules[*]} --host $HOST_NAME"
    cmd "$c"
    COMMANDS+=("$label$c")
    mkdir -p "$state"
    EXECWATCH_METRICS_LISTEN=off EXECWATCH_AUDIT_KEY=$KEY "$EXECWATCH" run --source "$mode" \
        --state-dir "$state" --status-socket "$socket" "${rules[@]}" --host "$HOST_NAME" \
        >"$agent_log" 2>&1 &
    AGENT_PID=$!
    STARTED_PIDS+=("$AGENT_PID")
    for ((i = 0; i < 200; i++)); do
        kill -0 "$AGENT_PID" 2>/dev/null || break
        [[ $(ew_status "$socket" | jq -r .sourceRunning 2>/dev/null) == true ]] && return 0
        sleep 0.1
    done
    return 1
}
