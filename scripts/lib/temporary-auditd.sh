# temporary-auditd.sh — sourced, after host-audit.sh, by the benchmarks that compare execwatch with
# auditd (bench-live.sh, bench-host-tax.sh): a real auditd on a temporary configuration, alone or
# with laurel as its only plugin, with the exec rules execwatch installs; and its stop, which
# hands audit back as host-audit.sh recorded it. Everything auditd and laurel write goes to the
# directory given (removed with WORK); the pid file auditd writes in /run is removed when there
# was none before. Expects: REPO, KEY, WORK, log, cmd, COMMANDS, STARTED_PIDS and BEFORE_*
# (host-audit.sh, which holds the audit lock).

AUDITD=$(command -v auditd)
LAUREL=/usr/sbin/laurel
AUDITD_PID_FILE=/run/auditd.pid

write_auditd_conf() { # write_auditd_conf DIR
    mkdir -p "$1/plugins.d"
    sed -e "s|@LOG_FILE@|$1/audit.log|" -e "s|@PLUGIN_DIR@|$1/plugins.d|" -e "s|@FLUSH@|INCREMENTAL_ASYNC|" \
        "$REPO/scripts/temporary-auditd.conf" >"$1/auditd.conf"
    chmod 640 "$1/auditd.conf"
}

write_laurel_conf() { # write_laurel_conf CONFDIR LAURELDIR
    local conf=$1/laurel.toml user_line
    if id _laurel >/dev/null 2>&1; then user_line='user = "_laurel"'; else user_line=''; fi
    if [[ -r /etc/laurel/config.toml ]]; then
        # the installed config, with directory, user and rotation size replaced
        sed -E -e "s|^directory[[:space:]]*=.*|directory = \"$2\"|" \
               -e "s|^user[[:space:]]*=.*|$user_line|" \
               -e 's|^size[[:space:]]*=.*|size = 1000000000|' /etc/laurel/config.toml >"$conf"
    else
        printf 'directory = "%s"\n%s\nstatusreport-period = 0\n[auditlog]\nfile = "audit.log"\nsize = 1000000000\ngenerations = 2\n' \
            "$2" "$user_line" >"$conf"
    fi
    cat >"$1/plugins.d/laurel.conf" <<EOF
active = yes
direction = out
type = always
format = string
path = $LAUREL
args = --config $conf
EOF
    chmod 640 "$1/plugins.d/laurel.conf"
}

wait_registered() { # wait_registered PID — until the kernel's audit pid is PID (20 s)
    local i
    for ((i = 0; i < 200; i++)); do
        [[ $(audit_field pid) == "$1" ]] && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# start_temporary_auditd DIR WITH_LAUREL(0|1) LABEL — `auditd -n -s enable -c DIR` (laurel as its
# only plugin with 1; laurel drops to _laurel as shipped, so DIR's parents must be searchable),
# waits until it is the audit daemon, then adds the exec rules execwatch installs (b64 and b32
# execve,execveat with KEY) and the backlog settings it uses (-b 8192 --backlog_wait_time 0).
# Sets AUDITD_PID and LAUREL_PID (empty without laurel); prints and records the commands
# (COMMANDS, with LABEL). Returns 1 when something did not start (after stopping it).
start_temporary_auditd() {
    local dir=$1 with_laurel=$2 label=$3 i r
    AUDITD_PID= LAUREL_PID=
    AUDITD_PID_FILE_EXISTED=0
    [[ -e $AUDITD_PID_FILE ]] && AUDITD_PID_FILE_EXISTED=1
    write_auditd_conf "$dir"
    ((with_laurel)) && write_laurel_conf "$dir" "$dir/laurel"
    local c="auditd -n -s enable -c $dir"
    ((with_laurel)) && c+="   (plugins.d/laurel.conf: path $LAUREL, args --config $dir/laurel.toml)"
    cmd "$c"
    COMMANDS+=("$label$c")
    "$AUDITD" -n -s enable -c "$dir" >"$dir/auditd.out" 2>&1 &
    AUDITD_PID=$!
    STARTED_PIDS+=("$AUDITD_PID")
    wait_registered "$AUDITD_PID" || {
        log "auditd did not register:"; tail -n 20 "$dir/auditd.out" >&2; stop_temporary_auditd || true; return 1; }
    for r in "-a always,exit -F arch=b64 -S execve,execveat -k $KEY" \
             "-a always,exit -F arch=b32 -S execve,execveat -k $KEY" \
             "-b 8192 --backlog_wait_time 0"; do
        cmd "auditctl $r"
        # shellcheck disable=SC2086
        auditctl $r >/dev/null || { log "auditctl $r failed"; stop_temporary_auditd || true; return 1; }
    done
    if ((with_laurel)); then
        for ((i = 0; i < 100; i++)); do
            LAUREL_PID=$(pgrep -P "$AUDITD_PID" -x laurel || true)
            [[ -n $LAUREL_PID ]] && break
            sleep 0.1
        done
        [[ -n $LAUREL_PID ]] || { log "laurel did not start under auditd:"; tail -n 20 "$dir/auditd.out" >&2
                                 stop_temporary_auditd || true; return 1; }
    fi
}

# stop_temporary_auditd — deletes the rules with KEY, puts back the backlog settings and (after
# auditd, whose `-s enable` changed it) the enabled flag as found, removes the pid file auditd
# left when there was none before. Returns auditd's exit status.
stop_temporary_auditd() {
    local rc=0
    auditctl -D -k "$KEY" >/dev/null
    auditctl -b "$BEFORE_BACKLOG" --backlog_wait_time "$BEFORE_WAIT" >/dev/null
    [[ -n $AUDITD_PID ]] && { stop_pid "$AUDITD_PID" || rc=$?; }
    auditctl -e "$BEFORE_ENABLED" >/dev/null
    ((AUDITD_PID_FILE_EXISTED)) || rm -f "$AUDITD_PID_FILE"
    return "$rc"
}
