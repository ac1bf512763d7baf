#!/bin/bash
# systemd-guest.sh DIR — the packages under a real systemd: run by scripts/test-systemd.sh inside
# a Debian 12 guest (root, its own kernel, no auditd, no network but loopback), from a oneshot
# unit. DIR holds execwatch_*.deb and execwatch-collector_*.deb. Prints one "ok:" or "FAIL:" line
# per check and, last, "systemd-guest: PASS" or "systemd-guest: FAILED (N failures)".
#
#   1. Kernel audit is given a state that is not the kernel's default (a foreign rule, backlog
#      limit 320, wait time 15000, disabled), recorded as "found".
#   2. dpkg -i both; the collector configured as the README says (an agent's token from
#      `agents add`, as the collector's user, in /etc/execwatch/token), the agent forwarding to it;
#      `systemctl enable --now` of both; `nc -h` → its incident at the collector.
#   3. `systemctl reload execwatch` (rules reloaded, same process), `restart` of both (new
#      processes, forwarding again).
#   4. `systemctl kill -s SIGKILL execwatch` → restarted by the unit (Restart=on-failure) with
#      audit taken over from the dead agent's record → `systemctl stop` → audit exactly as found.
#   5. `dpkg -i` of the same packages again restarts the running units.
#   6. `systemd-analyze security` (online) of both units: at most 3.0 and 2.0.
#   7. An unknown key in agent.yaml: the unit fails without restarting, `journalctl -p err -u
#      execwatch` names the key; the fixed file starts again.
#   8. No "Failed to set thread priority" in this boot's journal.
#   9. `dpkg --purge` of both: no file, directory, user, group, unit or enablement of theirs is
#      left, no process runs, and audit is as found.
set -uo pipefail

IN=${1:?usage: systemd-guest.sh DIR}
RULE=PH_Rule_TH_Linux_23
FOREIGN_KEY=guest-foreign
AGENT_CONFIG=/etc/execwatch/agent.yaml
COLLECTOR_CONFIG=/etc/execwatch/collector.yaml
TOKEN=/etc/execwatch/token
WAIT=60 # seconds any one step may take (under software emulation too)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C.UTF-8

FAILURES=0
log() { echo "systemd-guest: $*"; }
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
check() { # check DESCRIPTION COMMAND... — ok when COMMAND succeeds
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
finish() {
    if ((FAILURES == 0)); then log "PASS"; else log "FAILED ($FAILURES failures)"; fi
    exit 0
}
give_up() { fail "$*: the remaining checks depend on it"; finish; }

# wait_until SECONDS COMMAND... — polls COMMAND every 0.2 s until it succeeds or SECONDS pass.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
prop() { systemctl show -p "$2" --value "$1"; } # prop UNIT PROPERTY
is_active() { [[ $(prop "$1" ActiveState) == active && $(prop "$1" MainPID) != 0 ]]; }
is_failed() { [[ $(prop "$1" ActiveState) == failed ]]; }
# Answers and its source runs (loading the eBPF probe takes seconds under emulation).
agent_answers() { execwatch status --wait 5 >/dev/null 2>&1; }
collector_listens() { (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; }
journal_since() { journalctl --no-pager -q -o cat --since "@$1" "${@:2}"; } # journal_since EPOCH ARGS...

audit_state() {
    auditctl -s | awk '$1 == "enabled" || $1 == "pid" || $1 == "backlog_limit" || $1 == "backlog_wait_time"'
    echo "-- rules:"
    auditctl -l
}
audit_as_found() { # audit_as_found WHEN
    local now
    now=$(audit_state)
    if [[ $now == "$FOUND_AUDIT" ]]; then
        ok "$1: kernel audit as found ($(echo "$now" | tr '\n' ' '))"
    else
        fail "$1: kernel audit differs from what was found:"$'\n'"$(diff <(echo "$FOUND_AUDIT") <(echo "$now"))"
    fi
}

# incidents_with_nc — the collector's incidents of RULE for this host whose procName is nc.
incidents_with_nc() {
    runuser -u execwatch-collector -- execwatch-collector incidents --config "$COLLECTOR_CONFIG" --json \
        --rule "$RULE" --host "$(hostname)" 2>/dev/null | grep -E '"procName" ?: ?"nc"'
}
nc_count() { # the sum of those incidents' counts (0 when none)
    incidents_with_nc | grep -oE '"count" ?: ?[0-9]+' | grep -oE '[0-9]+$' | awk '{ n += $1 } END { print n + 0 }'
}
count_above() { (($(nc_count) > $1)); }

log "kernel $(uname -r), $(systemctl --version | head -1), $(. /etc/os-release && echo "$PRETTY_NAME")"
DEBS=("$IN"/execwatch_*.deb "$IN"/execwatch-collector_*.deb)
for deb in "${DEBS[@]}"; do [[ -f $deb ]] || give_up "no package $deb"; done
! command -v auditd >/dev/null || give_up "auditd is installed in the guest: it would take audit"

# --- 1. audit as found ----------------------------------------------------------------------
auditctl -D >/dev/null
auditctl -b 320 >/dev/null
auditctl --backlog_wait_time 15000 >/dev/null
auditctl -a always,exit -F arch=b64 -S unlinkat -F auid=4242 -k "$FOREIGN_KEY" >/dev/null
auditctl -e 0 >/dev/null
FOUND_AUDIT=$(audit_state)
log "audit found: $(echo "$FOUND_AUDIT" | tr '\n' ' ')"

# --- 2. install, configure, enable --now, an incident ------------------------------------------
for deb in "${DEBS[@]}"; do # every path of the packages, and which existed before (/usr/bin, ...)
    dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/\?$'
done | sort -u >/tmp/package-paths
while read -r path; do [[ -e $path ]] && echo "$path"; done </tmp/package-paths >/tmp/existed-before
getent passwd >/tmp/passwd-before
getent group >/tmp/group-before

if dpkg -i "${DEBS[@]}" >/tmp/dpkg-i.txt 2>&1; then
    ok "dpkg -i: $(dpkg-query -W -f='${Package} ${Version}; ' execwatch execwatch-collector)"
else
    cat /tmp/dpkg-i.txt
    give_up "dpkg -i ${DEBS[*]}"
fi

runuser -u execwatch-collector -- execwatch-collector agents add "$(hostname)" --config "$COLLECTOR_CONFIG" \
    >/tmp/agents-add.txt 2>&1 || { cat /tmp/agents-add.txt; give_up "execwatch-collector agents add"; }
(umask 077 && tail -1 /tmp/agents-add.txt >"$TOKEN")
[[ -s $TOKEN ]] || give_up "agents add printed no token"
cp -p "$AGENT_CONFIG" /tmp/agent.yaml.shipped
cat >>"$AGENT_CONFIG" <<EOF

# added by packaging/test/systemd-guest.sh
forward:
  url: http://127.0.0.1:8443
  tokenFile: $TOKEN
EOF
cp -p "$AGENT_CONFIG" /tmp/agent.yaml.forwarding

START=$(date +%s)
check "systemctl enable --now execwatch-collector" systemctl enable --now execwatch-collector.service
wait_until "$WAIT" collector_listens || give_up "the collector does not listen on 127.0.0.1:8443: $(journalctl -u execwatch-collector -b --no-pager -o cat | tail -5)"
ok "the collector (pid $(prop execwatch-collector MainPID), user $(ps -o user= -p "$(prop execwatch-collector MainPID)")) listens on 127.0.0.1:8443"
check "systemctl enable --now execwatch" systemctl enable --now execwatch.service
wait_until "$WAIT" agent_answers || give_up "the agent does not answer execwatch status: $(journalctl -u execwatch -b --no-pager -o cat | tail -5)"
ok "the agent (pid $(prop execwatch MainPID)) answers; $(execwatch status 2>&1 | grep -iE 'source' | head -2 | tr -s ' \n' ' ')"
check "both units enabled" [ "$(systemctl is-enabled execwatch execwatch-collector | sort -u)" = enabled ]

nc -h >/dev/null 2>&1
if wait_until "$WAIT" count_above 0; then
    ok "nc -h: incident $RULE at the collector: $(incidents_with_nc | head -1 | cut -c1-200)"
else
    fail "no $RULE incident for nc at the collector after $WAIT s; execwatch status: $(execwatch status 2>&1 | tr '\n' ' ')"
fi

# --- 3. reload, restart ---------------------------------------------------------------------
pid=$(prop execwatch MainPID)
t=$(date +%s)
sleep 1
check "systemctl reload execwatch" systemctl reload execwatch
if wait_until 10 eval 'journal_since "$t" -u execwatch | grep -q "rules reloaded"'; then
    ok "reload: the agent logged 'rules reloaded', same pid $pid: $([[ $(prop execwatch MainPID) == "$pid" ]] && echo yes || echo NO)"
    [[ $(prop execwatch MainPID) == "$pid" ]] || fail "reload changed the agent's pid"
else
    fail "reload: no 'rules reloaded' in the agent's journal"
fi

count=$(nc_count)
for unit in execwatch-collector execwatch; do
    pid=$(prop $unit MainPID)
    check "systemctl restart $unit" systemctl restart $unit
    if wait_until "$WAIT" is_active $unit && [[ $(prop $unit MainPID) != "$pid" ]]; then
        ok "$unit restarted: pid $pid → $(prop $unit MainPID)"
    else
        fail "$unit after restart: $(prop $unit ActiveState), pid $(prop $unit MainPID) (was $pid)"
    fi
done
wait_until "$WAIT" collector_listens && wait_until "$WAIT" agent_answers || fail "not answering after the restarts"
nc -h >/dev/null 2>&1
if wait_until "$WAIT" count_above "$count"; then
    ok "after the restarts another nc reaches the collector (count $count → $(nc_count))"
else
    fail "after the restarts the nc incident's count stays $count"
fi

# --- 4. SIGKILL, automatic restart, stop: audit as found ------------------------------------------
# What follows is about audit: eBPF (auto's choice on this kernel) never touches it, so the agent
# runs on audit-unicast from here on.
printf '\nsource: audit-unicast\n' >>"$AGENT_CONFIG"
cp -p "$AGENT_CONFIG" /tmp/agent.yaml.forwarding
check "systemctl restart execwatch (source: audit-unicast)" systemctl restart execwatch
wait_until "$WAIT" agent_answers || fail "the agent does not answer after the switch to audit-unicast"
pid=$(prop execwatch MainPID)
restarts=$(prop execwatch NRestarts)
[[ $(audit_state) != "$FOUND_AUDIT" ]] && ok "while the agent runs audit is its own: $(auditctl -s | awk '$1 == "enabled" || $1 == "pid"' | tr '\n' ' ')" ||
    fail "audit unchanged while the agent runs (it is not using audit?)"
check "systemctl kill -s SIGKILL execwatch" systemctl kill -s SIGKILL execwatch
restarted() { is_active execwatch && [[ $(prop execwatch MainPID) != "$pid" && $(prop execwatch NRestarts) -gt $restarts ]]; }
if wait_until "$WAIT" restarted; then
    ok "the unit restarted the agent by itself: pid $pid → $(prop execwatch MainPID), NRestarts $restarts → $(prop execwatch NRestarts)"
else
    fail "no automatic restart after SIGKILL: $(prop execwatch ActiveState)/$(prop execwatch SubState), NRestarts $(prop execwatch NRestarts)"
fi
wait_until "$WAIT" agent_answers || fail "the restarted agent does not answer status"
check "systemctl stop execwatch" systemctl stop execwatch
audit_as_found "SIGKILL, restart, stop"

# --- 5. reinstall restarts running units -----------------------------------------------------
check "systemctl start execwatch" systemctl start execwatch
wait_until "$WAIT" agent_answers || fail "the agent does not answer status after start"
agent_pid=$(prop execwatch MainPID)
collector_pid=$(prop execwatch-collector MainPID)
if dpkg -i "${DEBS[@]}" >/tmp/dpkg-i-again.txt 2>&1; then ok "dpkg -i again"; else cat /tmp/dpkg-i-again.txt; fail "dpkg -i again"; fi
for pair in "execwatch:$agent_pid" "execwatch-collector:$collector_pid"; do
    unit=${pair%%:*}
    if wait_until "$WAIT" is_active "$unit" && [[ $(prop "$unit" MainPID) != "${pair#*:}" ]]; then
        ok "reinstalling restarted $unit: pid ${pair#*:} → $(prop "$unit" MainPID)"
    else
        fail "$unit after reinstalling: $(prop "$unit" ActiveState), pid $(prop "$unit" MainPID) (was ${pair#*:})"
    fi
done

# --- 6. exposure, online ---------------------------------------------------------------------
for pair in execwatch.service:3.0 execwatch-collector.service:2.0; do
    unit=${pair%%:*}
    line=$(systemd-analyze security --no-pager "$unit" 2>&1 | grep 'Overall exposure level' || true)
    score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
    if [[ -n $score ]] && awk -v s="$score" -v m="${pair#*:}" 'BEGIN { exit !(s <= m) }'; then
        ok "systemd-analyze security $unit: $score <= ${pair#*:}"
    else
        fail "systemd-analyze security $unit: '${line:-no exposure level}' (at most ${pair#*:})"
    fi
done

# --- 7. a bad configuration ------------------------------------------------------------------
check "systemctl stop execwatch" systemctl stop execwatch
restarts=$(prop execwatch NRestarts)
printf '\nbogusWatchKey: 1\n' >>"$AGENT_CONFIG"
t=$(date +%s)
sleep 1
systemctl start execwatch
if wait_until "$WAIT" is_failed execwatch; then
    ok "unknown key: the unit failed (status $(prop execwatch ExecMainStatus), NRestarts $restarts → $(prop execwatch NRestarts))"
    [[ $(prop execwatch NRestarts) == "$restarts" ]] || fail "the unit restarted the agent after a configuration error"
else
    fail "unknown key: the unit is $(prop execwatch ActiveState)/$(prop execwatch SubState), not failed"
fi
line=$(journal_since "$t" -p err -u execwatch | grep bogusWatchKey)
if [[ -n $line ]]; then
    ok "journalctl -p err -u execwatch: $line"
else
    fail "journalctl -p err -u execwatch does not name bogusWatchKey; the agent's lines:"$'\n'"$(journalctl --no-pager -q -o verbose --since "@$t" -u execwatch | grep -E '^\s*(PRIORITY|MESSAGE)=' | tail -8)"
fi
cp -p /tmp/agent.yaml.forwarding "$AGENT_CONFIG"
systemctl reset-failed execwatch
check "the fixed configuration starts again" systemctl start execwatch
wait_until "$WAIT" agent_answers || fail "the agent does not answer status after the fix"

# --- 8. thread priorities --------------------------------------------------------------------
# The units first (LimitNICE= lets libdispatch's threads raise their priority), then the whole
# journal: the programs run by hand, e.g. the collector's commands as its user (runuser, as the
# README says), log it through syslog without a unit's limit.
priority_lines() { journal_since "$START" -o short "$@" | grep 'Failed to set thread priority'; }
lines=$(priority_lines -u execwatch -u execwatch-collector | wc -l)
if ((lines == 0)); then
    ok "no 'Failed to set thread priority' from the units (LimitNICE=$((20 - $(prop execwatch LimitNICE))), $((20 - $(prop execwatch-collector LimitNICE))))"
else
    fail "$lines 'Failed to set thread priority' lines from the units, e.g. $(priority_lines -u execwatch -u execwatch-collector | head -1)"
fi
lines=$(priority_lines | wc -l)
if ((lines == 0)); then
    ok "no 'Failed to set thread priority' in the journal"
else
    fail "$lines 'Failed to set thread priority' lines in the journal, from: $(priority_lines | awk '{ print $5 }' | sort -u | while read -r who; do
        pid=${who##*[}
        pid=${pid%]:}
        echo "$who $(journal_since "$START" _PID="$pid" -o verbose | grep -m1 -oE '_CMDLINE=.*' || echo '?')"
    done | tr '\n' ';')"
fi

# --- 9. purge ----------------------------------------------------------------------------------
rm -f "$TOKEN" # the administrator's file (README: "written to the host's /etc/execwatch/token")
if dpkg --purge execwatch-collector execwatch >/tmp/dpkg-purge.txt 2>&1; then
    ok "dpkg --purge execwatch-collector execwatch (both running)"
else
    cat /tmp/dpkg-purge.txt
    fail "dpkg --purge"
fi
left=()
while read -r path; do
    [[ -e $path || -L $path ]] && ! grep -qxF "$path" /tmp/existed-before && left+=("$path")
done </tmp/package-paths
for path in /etc/execwatch /var/lib/execwatch /var/lib/execwatch-collector /run/execwatch \
    /etc/systemd/system/multi-user.target.wants/execwatch.service \
    /etc/systemd/system/multi-user.target.wants/execwatch-collector.service; do
    [[ -e $path || -L $path ]] && left+=("$path")
done
while read -r path; do left+=("$path"); done < <(find /etc/systemd /var/lib/systemd /run/systemd/system \
    \( -name 'execwatch.service*' -o -name 'execwatch-collector.service*' \) 2>/dev/null)
((${#left[@]} == 0)) && ok "no file of theirs is left" || fail "left after purge: ${left[*]}"
users=$(diff /tmp/passwd-before <(getent passwd) | grep '^>' || true)
groups=$(diff /tmp/group-before <(getent group) | grep '^>' || true)
[[ -z $users$groups ]] && ok "no user or group of theirs is left" || fail "left after purge: $users $groups"
for unit in execwatch.service execwatch-collector.service; do
    state=$(prop $unit LoadState)/$(prop $unit ActiveState)/$(prop $unit UnitFileState)
    [[ $state == not-found/inactive/ ]] && ok "systemd: $unit not found" || fail "systemd still has $unit: $state"
done
pgrep -l execwatch >/dev/null && fail "processes left: $(pgrep -l execwatch | tr '\n' ' ')" || ok "no execwatch process runs"
audit_as_found "purge"
finish
