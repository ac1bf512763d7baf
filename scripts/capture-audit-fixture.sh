#!/usr/bin/env bash
# capture-audit-fixture.sh — record a real auditd log of a known exec workload, as a test fixture.
#
# Produces (default output dir: <repo>/Tests/Fixtures/audit, override with FIXTURE_DIR=...):
#   captured-debian12.log           raw auditd log (log_format = ENRICHED, so each record carries a
#                                   0x1d byte followed by translated fields)
#   captured-debian12.expected.tsv  one line per workload exec that must appear as a successful
#                                   exec event: procName <TAB> user <TAB> argv
#
# Must run as root on a host with kernel audit support and NO audit daemon registered
# (`auditctl -s` pid 0). Starts its own auditd by hand (no systemd needed), in the foreground mode
# `auditd -n -c <tmp confdir>`, logging to a temporary file, without plugins (no laurel/syslog).
# If an audit daemon (or any other process) is already registered as the audit pid, the script
# refuses: it does not reuse or disturb someone else's auditd.
#
# Host state: before doing anything it saves `auditctl -s` (enabled, pid, backlog_limit, ...) and
# `auditctl -l`; on exit (success or failure, trap EXIT) it stops the auditd it started, deletes
# only its own rules (`auditctl -D -k execwatch-fixture`), restores backlog_limit and the enabled
# flag, deletes the user `ewfixture` if (and only if) it created it, and then compares the state
# with the saved one and fails loudly if it differs.
#
# Filtering: the workload runs in a subshell that writes its own /proc/self/loginuid (to the
# caller's uid), which gives it a fresh audit session id. The exec rules carry
# `-F sessionid=<that id>`, so execs of unrelated processes on the host (builds, other tests) are
# not recorded. Everything the workload starts inherits the session (runuser does not run
# pam_loginuid), so the log also contains the events of helper processes (python3, runuser, env,
# failed PATH-search attempts). If loginuid cannot be written, the rules are installed without the
# session filter (a warning is printed) and the log is trimmed afterwards if it is large.
#
# How the expected file is made (independently of the project's parser): every workload exec that
# matters goes through a tiny python3 wrapper (written to the temp dir, see WRAPPER below). The
# wrapper appends one line to the TSV and then performs the exec itself with exactly the bytes it
# recorded (os.execv / os.execvpe / raw execveat syscall):
#   procName  base name of the path handed to execve/execveat (`nc` for /usr/bin/nc, `nc.openbsd`
#             for ./nc.openbsd, the link name for a symlink, the script name for a #! script)
#   user      login name of the real uid of the process doing the exec
#   argv      each argument as lowercase hex, joined with ','  (an empty argument is an empty
#             field, e.g. `6563686f,,78`)
# Exception, by kernel design: for a `#!` script the kernel replaces argv before audit sees it
# (argv[0] is dropped, and the interpreter, its optional argument and the script path are put in
# front). The wrapper reads the #! line and records that rewritten argv, which is what the EXECVE
# record holds.
# Execs the wrapper does not control (python3 itself, runuser, env's own PATH search results, the
# failed attempts) are not in the TSV, except for `env ... ncat`, whose final exec is determined
# by the workload definition and is recorded with the wrapper's `record` mode.
# After the capture, an independent mini-decoder (python, below) checks that every TSV line is
# present in the log; the script fails if one is missing.
#
# Notes on the workload: the "200000-char argument" case cannot succeed — Linux refuses any single
# argument longer than MAX_ARG_STRLEN (131072 bytes including the NUL) with E2BIG; it is run as an
# expected failure, and 131071 chars is used as the largest successful argument. Network use is
# loopback-only (127.0.0.1 port 9).
#
# Usage: sudo scripts/capture-audit-fixture.sh        (env: FIXTURE_DIR, KEEP_TMP=1)
set -euo pipefail

KEY=execwatch-fixture
FIXTURE_USER=ewfixture
PY=/usr/bin/python3
NAME=captured-debian12

log()  { printf '[capture] %s\n' "$*" >&2; }
die()  { printf '[capture] ERROR: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
FIXTURE_DIR=${FIXTURE_DIR:-$REPO_DIR/Tests/Fixtures/audit}

[[ $(id -u) -eq 0 ]] || die "must run as root (needs CAP_AUDIT_CONTROL to start auditd and add rules)"
[[ $(uname -m) == x86_64 ]] || die "this workload is written for x86_64 (arch=b64/b32 rules, execveat syscall number)"

# ---------------------------------------------------------------- 1. packages
ensure_packages() {
    local missing=() p
    for p in auditd netcat-openbsd netcat-traditional ncat python3-minimal passwd util-linux; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]} == 0)); then
        log "packages present: auditd netcat-openbsd netcat-traditional ncat python3"
        return
    fi
    log "installing with apt-get: ${missing[*]}"
    local apt=(apt-get -y -qq -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null; then
        log "install failed, running apt-get update and retrying"
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
}
ensure_packages
for b in auditd auditctl runuser useradd userdel; do
    command -v "$b" >/dev/null || die "$b not found after installing packages"
done
[[ -x $PY ]] || die "$PY not found"

# Tests and other scripts touch kernel audit too: hold the shared lock while this one does.
mkdir -p /run/lock
exec 9>/run/lock/execwatch-audit-tests.lock
flock 9

# ---------------------------------------------------------------- 2. save host audit state
status_field() { awk -v k="$1" '$1 == k { print $2; exit }' <<<"$2"; }

ORIG_STATUS=$(auditctl -s) || die "auditctl -s failed: kernel without audit support, or not allowed (container?)"
ORIG_RULES=$(auditctl -l) || die "auditctl -l failed"
ORIG_ENABLED=$(status_field enabled "$ORIG_STATUS")
ORIG_PID=$(status_field pid "$ORIG_STATUS")
ORIG_BACKLOG=$(status_field backlog_limit "$ORIG_STATUS")
ORIG_LOST=$(status_field lost "$ORIG_STATUS")
COMPARED_FIELDS=(enabled failure pid rate_limit backlog_limit backlog_wait_time)
log "host audit state: enabled=$ORIG_ENABLED pid=$ORIG_PID backlog_limit=$ORIG_BACKLOG, rules: $(if [[ $ORIG_RULES == "No rules" ]]; then echo none; else grep -c . <<<"$ORIG_RULES"; fi)"

[[ $ORIG_ENABLED == 2 ]] && die "audit configuration is locked (enabled=2); cannot add or remove rules"
if [[ $ORIG_PID != 0 ]]; then
    die "an audit daemon is already registered (pid $ORIG_PID: $(tr '\0' ' ' </proc/"$ORIG_PID"/cmdline 2>/dev/null || echo '?')). This script does not reuse or stop it; stop it first (and restart it afterwards)."
fi
if pgrep -x auditd >/dev/null; then
    die "an auditd process is running (pid $(pgrep -x auditd | tr '\n' ' ')) although none is registered; stop it first"
fi
if grep -q -- "key=$KEY\$" <<<"$ORIG_RULES"; then
    die "rules with key $KEY already exist (left over from an interrupted run?); remove them with: auditctl -D -k $KEY"
fi

# ---------------------------------------------------------------- cleanup / restore (trap EXIT)
TMP=""
AUDITD_PID=""
CREATED_USER=0
PIDFILE=/run/auditd.pid
PIDFILE_EXISTED=0
[[ -e $PIDFILE ]] && PIDFILE_EXISTED=1
STATE_TOUCHED=0

stop_auditd() {
    [[ -n $AUDITD_PID ]] || return 0
    if kill -0 "$AUDITD_PID" 2>/dev/null; then
        log "stopping auditd (pid $AUDITD_PID)"
        kill -TERM "$AUDITD_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do
            kill -0 "$AUDITD_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$AUDITD_PID" 2>/dev/null; then
            log "auditd did not stop within 10 s, sending SIGKILL"
            kill -KILL "$AUDITD_PID" 2>/dev/null || true
        fi
    fi
    wait "$AUDITD_PID" 2>/dev/null || true
    AUDITD_PID=""
}

cleanup() {
    local rc=$? problems=0 f now_status now_rules
    set +e
    trap - EXIT INT TERM HUP
    if ((STATE_TOUCHED)); then
        auditctl -D -k "$KEY" >/dev/null 2>&1
        stop_auditd
        [[ $PIDFILE_EXISTED == 0 && -e $PIDFILE ]] && rm -f "$PIDFILE"
        auditctl -b "$ORIG_BACKLOG" >/dev/null 2>&1 || { log "could not restore backlog_limit=$ORIG_BACKLOG"; problems=1; }
        auditctl -e "$ORIG_ENABLED" >/dev/null 2>&1 || { log "could not restore enabled=$ORIG_ENABLED"; problems=1; }
    fi
    if ((CREATED_USER)); then
        log "deleting user $FIXTURE_USER (created by this run)"
        userdel "$FIXTURE_USER" >/dev/null 2>&1 || { log "userdel $FIXTURE_USER failed"; problems=1; }
    fi
    if ((STATE_TOUCHED)); then
        now_status=$(auditctl -s)
        now_rules=$(auditctl -l)
        for f in "${COMPARED_FIELDS[@]}"; do
            if [[ $(status_field "$f" "$now_status") != "$(status_field "$f" "$ORIG_STATUS")" ]]; then
                log "audit state differs after run: $f=$(status_field "$f" "$now_status"), was $(status_field "$f" "$ORIG_STATUS")"
                problems=1
            fi
        done
        if [[ $now_rules != "$ORIG_RULES" ]]; then
            log "audit rules differ after run:"
            diff <(printf '%s\n' "$ORIG_RULES") <(printf '%s\n' "$now_rules") >&2
            problems=1
        fi
        ((problems)) || log "host audit state restored (enabled=$ORIG_ENABLED pid=$ORIG_PID backlog_limit=$ORIG_BACKLOG, rules unchanged)"
    fi
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 || $rc != 0 ]]; then
            log "temporary files kept in $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    ((problems)) && { log "ERROR: host audit state was not fully restored"; ((rc == 0)) && rc=3; }
    ((rc == 0)) || log "FAILED (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---------------------------------------------------------------- temp dir, wrapper, helpers
TMP=$(mktemp -d /tmp/execwatch-fixture.XXXXXX)
chmod 0755 "$TMP"                     # the fixture user must reach the wrapper and test files
mkdir -p "$TMP/conf/plugins.d" "$TMP/log" "$TMP/bin" "$TMP/dir with space" "$TMP/out"
chmod 0700 "$TMP/conf" "$TMP/log"
TSV=$TMP/expected.tsv
: >"$TSV"
chmod 0666 "$TSV"                      # appended to by the wrapper running as $FIXTURE_USER too
WRAP=$TMP/ewexec.py
END_MARKER="execwatch-fixture-end-$$-$RANDOM"

cat >"$WRAP" <<'PYEOF'
# ewexec.py TSV MODE ...  — record the exec it is about to perform, then perform it.
#   exec     PATH ARG0 ARGS...          os.execv(PATH, argv)
#   execvp   PATHLIST NAME ARG0 ARGS... PATH search over PATHLIST (python's execvpe: one execve per dir)
#   execveat DIR NAME ARG0 ARGS...      raw execveat(open(DIR), NAME, argv, envp, 0)
#   fexecve  PATH ARG0 ARGS...          execveat(fd, "", ..., AT_EMPTY_PATH) via glibc fexecve; NOT recorded
#   record   PATH ARG0 ARGS...          only write the line (exec done by another program, e.g. env)
#   fail     PATH ARG0 ARGS...          exec that must fail; NOT recorded
#   e2big    PATH N                     exec PATH with one N-byte argument that must fail with E2BIG; NOT recorded
import ctypes, os, pwd, sys

tsv = sys.argv[1]
mode = sys.argv[2]
rest = [os.fsencode(a) for a in sys.argv[3:]]

def record(path, argv):
    argv = script_argv(path, argv)
    user = pwd.getpwuid(os.getuid()).pw_name
    line = b"%s\t%s\t%s\n" % (os.path.basename(path), user.encode(), b",".join(a.hex().encode() for a in argv))
    fd = os.open(tsv, os.O_WRONLY | os.O_APPEND)
    os.write(fd, line)   # one write, O_APPEND: lines never interleave
    os.close(fd)

def script_argv(path, argv):
    # binfmt_script: argv[0] is dropped; [interp, optional-arg, path-as-passed] is put in front.
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return argv
    if not head.startswith(b"#!"):
        return argv
    line = head[2:].split(b"\n", 1)[0].strip(b" \t")
    parts = line.split(None, 1)
    new = [parts[0]] + ([parts[1].strip(b" \t")] if len(parts) > 1 else []) + [path]
    return new + argv[1:]

def flush():
    sys.stdout.flush(); sys.stderr.flush()

if mode == "exec":
    path, argv = rest[0], rest[1:]
    record(path, argv); flush()
    os.execv(path, argv)
elif mode == "execvp":
    pathlist, name, argv = rest[0], rest[1], rest[2:]
    found = None
    for d in pathlist.split(b":"):
        cand = os.path.join(d, name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            found = cand
            break
    if found is None:
        sys.exit("ewexec: %r not found in %r" % (name, pathlist))
    record(found, argv); flush()
    env = {k: v for k, v in os.environb.items()}
    env[b"PATH"] = pathlist
    os.execvpe(name, argv, env)
elif mode == "execveat":
    dirpath, name, argv = rest[0], rest[1], rest[2:]
    record(name, argv); flush()
    dfd = os.open(dirpath, os.O_RDONLY | os.O_DIRECTORY)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    cargv = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
    envl = [k + b"=" + v for k, v in os.environb.items()]
    cenv = (ctypes.c_char_p * (len(envl) + 1))(*envl, None)
    libc.syscall(ctypes.c_long(322), ctypes.c_int(dfd), ctypes.c_char_p(name), cargv, cenv, ctypes.c_int(0))
    sys.exit("ewexec: execveat failed: %s" % os.strerror(ctypes.get_errno()))
elif mode == "fexecve":
    path, argv = rest[0], rest[1:]
    fd = os.open(path, os.O_RDONLY)
    flush()
    os.execve(fd, argv, os.environb)
elif mode == "record":
    record(rest[0], rest[1:])
elif mode == "fail":
    try:
        os.execv(rest[0], rest[1:])
    except OSError as e:
        print("ewexec: expected failure: %s: %s" % (rest[0].decode(errors="replace"), e.strerror))
        sys.exit(0)
elif mode == "e2big":
    path, n = rest[0], int(rest[1])
    try:
        os.execv(path, [os.path.basename(path), b"L" * n])
    except OSError as e:
        print("ewexec: expected failure for %d-byte argument: %s" % (n, e.strerror))
        sys.exit(0)
else:
    sys.exit("ewexec: unknown mode %s" % mode)
sys.exit("ewexec: exec unexpectedly returned")
PYEOF

# ---------------------------------------------------------------- 3. user, auditd, rules
if ! id -u "$FIXTURE_USER" >/dev/null 2>&1; then
    log "creating system user $FIXTURE_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$FIXTURE_USER"
    CREATED_USER=1
else
    log "using existing user $FIXTURE_USER"
fi

sed -e "s|@LOG_FILE@|$TMP/log/audit.log|" -e "s|@PLUGIN_DIR@|$TMP/conf/plugins.d|" -e "s|@FLUSH@|SYNC|" \
    "$SCRIPT_DIR/temporary-auditd.conf" >"$TMP/conf/auditd.conf"
chmod 0640 "$TMP/conf/auditd.conf"

STATE_TOUCHED=1
auditctl -b 8192 >/dev/null            # restored in cleanup; avoids losing records of the big events
log "starting auditd -n -c $TMP/conf (log: $TMP/log/audit.log, ENRICHED, flush=SYNC, no plugins)"
auditd -n -s enable -c "$TMP/conf" >"$TMP/auditd.stderr" 2>&1 &
AUDITD_PID=$!
for ((i = 0; i < 100; i++)); do
    kill -0 "$AUDITD_PID" 2>/dev/null || { cat "$TMP/auditd.stderr" >&2; AUDITD_PID=""; die "auditd exited during startup"; }
    [[ $(status_field pid "$(auditctl -s)") == "$AUDITD_PID" ]] && break
    sleep 0.1
done
[[ $(status_field pid "$(auditctl -s)") == "$AUDITD_PID" ]] || { cat "$TMP/auditd.stderr" >&2; die "auditd (pid $AUDITD_PID) did not register with the kernel within 10 s"; }
log "auditd running as pid $AUDITD_PID, kernel audit enabled=$(status_field enabled "$(auditctl -s)")"

# ---------------------------------------------------------------- 4. workload
w() { "$PY" -I "$WRAP" "$TSV" "$@" </dev/null >>"$TMP/out/workload.out" 2>&1 || true; }
as_user() { (cd "$TMP" && runuser -u "$FIXTURE_USER" -- "$PY" -I "$WRAP" "$TSV" "$@" </dev/null >>"$TMP/out/workload.out" 2>&1) || true; }

# files used by the workload (created before the rules exist, so they do not show up in the log)
printf '#!/bin/sh -e\n# execwatch fixture script\nexit 0\n' >"$TMP/bin/hello-script.sh"
chmod 0755 "$TMP/bin/hello-script.sh"
printf 'not executable\n' >"$TMP/bin/not-executable"
chmod 0644 "$TMP/bin/not-executable"
ln -s /usr/bin/nc "$TMP/bin/mync"
ln -s /usr/bin/nc.openbsd "$TMP/bin/café-nc"
ln -s /usr/bin/nc "$TMP/dir with space/nc link"
LONG20K=$(printf 'x%.0s' {1..20000})
LONG20K_SPACES=$(printf 'ab %.0s' {1..6667})          # 20001 bytes, contains spaces: hex-encoded
LONG131071=$(head -c 131071 /dev/zero | tr '\0' 'y')   # the largest argument Linux accepts
MANY=(); for ((i = 1; i <= 3000; i++)); do MANY+=("arg$i"); done
MIXED=(); for ((i = 1; i <= 500; i++)); do MIXED+=("plain$i" "with space $i"); done
# 500-byte arguments: at record boundaries the kernel splits them into aN_len/aN[0]/aN[1] chunks
# even though they are short (plain ones as quoted chunks, the ones with a space as hex chunks)
PAD500=$(printf 'z%.0s' {1..496})
MEDIUM=(); for ((i = 1; i <= 60; i++)); do MEDIUM+=("$(printf 'm%03d' "$i")$PAD500"); done
MEDIUM_HEX=(); for ((i = 1; i <= 60; i++)); do MEDIUM_HEX+=("$(printf 'h%02d ' "$i")$PAD500"); done
SES_FILE=$TMP/session
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

run_workload() {
    # Plain netcat family, absolute paths (loopback only)
    w exec /usr/bin/nc nc -h
    w exec /usr/bin/nc nc -z -w 1 127.0.0.1 9
    w exec /usr/bin/nc.openbsd nc.openbsd -h
    w exec /usr/bin/nc.openbsd nc.openbsd -z -w 1 127.0.0.1 9
    w exec /usr/bin/nc.traditional nc.traditional -h
    w exec /usr/bin/nc.traditional nc.traditional -z -w 1 127.0.0.1 9
    w exec /usr/bin/ncat ncat --version
    [[ -e /usr/bin/netcat ]] && w exec /usr/bin/netcat netcat -h
    w exec /bin/true true
    w exec /etc/alternatives/nc nc -h                     # the alternatives link itself
    w exec /usr/bin/nc.openbsd custom-argv0 -h            # argv[0] differs from the path
    # PATH search: failed execve for /usr/local/sbin, /usr/local/bin, /usr/sbin before /usr/bin
    w execvp "$DEFAULT_PATH" nc nc -h
    w execvp "/nonexistent/a:/nonexistent/b:/usr/local/bin:/usr/bin" ncat ncat --version
    # env doing the PATH search itself (found late in PATH)
    w record /usr/bin/ncat ncat --version
    w exec /usr/bin/env env PATH=/nonexistent/c:/nonexistent/d:/usr/local/bin:/usr/bin ncat --version
    # relative paths and symlinks
    (cd /usr/bin && w exec ./nc.openbsd ./nc.openbsd -h)
    (cd /usr && w exec bin/nc bin/nc -h)
    (cd /usr/bin && w exec ../bin/ncat ../bin/ncat --version)
    w exec "$TMP/bin/mync" mync -h
    (cd "$TMP/bin" && w exec ./mync ./mync -z -w 1 127.0.0.1 9)
    w exec "$TMP/bin/café-nc" café-nc -h
    (cd "$TMP/dir with space" && w exec "./nc link" "nc link" -h)
    w exec "$TMP/dir with space/nc link" "nc link" -z -w 1 127.0.0.1 9
    # the same as another user
    as_user exec /usr/bin/nc nc -h
    as_user exec /usr/bin/nc nc -z -w 1 127.0.0.1 9
    as_user exec /usr/bin/nc.openbsd nc.openbsd -h
    as_user exec /usr/bin/nc.traditional nc.traditional -h
    as_user exec /usr/bin/ncat ncat --version
    as_user execvp "$DEFAULT_PATH" nc nc -z -w 1 127.0.0.1 9
    # awkward arguments (/bin/echo as target)
    w exec /bin/echo echo "two words" 'double "quotes"' "it's single" $'tab\there' $'new\nline' 'back\slash' '50%' 'a=b' '--opt=val'
    w exec /bin/echo echo "café ☕" "日本語" "emoji 🦀"
    w exec /bin/echo echo "$(printf 'a\xffb')" "$(printf '\xff\xfe')" "$(printf 'caf\xe9 latin1')"
    w exec /bin/echo echo "" "after-empty" "" ""
    w exec /bin/echo echo 'a1="forged" msg=audit(1.2:3): argc=9' $'sep\x1dENRICHED="x"' $'esc\x1b[31m' ' ' '~!@#$^&*()[]{}<>?|'
    # long arguments: the kernel logs a1_len=N and a1[0]=..., a1[1]=... chunks
    w exec /bin/echo echo "$LONG20K"
    w exec /bin/echo echo "$LONG20K_SPACES"
    w exec /bin/echo echo short "$LONG131071" tail
    w e2big /bin/echo 200000
    # many arguments: one event, several EXECVE records
    w exec /bin/echo echo "${MANY[@]}"
    w exec /bin/echo echo "${MIXED[@]}"
    w exec /bin/echo echo "${MEDIUM[@]}"
    w exec /bin/echo echo "${MEDIUM_HEX[@]}"
    # failures
    w fail /nonexistent/execwatch/bin/tool tool --flag
    w fail "$TMP/bin/not-executable" not-executable
    # #! script (with interpreter argument)
    w exec "$TMP/bin/hello-script.sh" hello-script.sh "script arg" plain
    # execveat with a directory fd and a relative name, and fexecve (execveat with AT_EMPTY_PATH)
    w execveat /usr/bin nc.openbsd nc.openbsd -h
    w fexecve /usr/bin/nc.openbsd nc.openbsd-fexecve -h
    # end marker: when this is in the log, everything before it is too
    w exec /bin/true true "$END_MARKER"
}

log "running workload in its own audit session"
(
    cd /                               # neutral cwd for the CWD records
    # fresh audit session for this subshell and everything it starts
    SES=4294967295
    if echo "$(id -u)" 2>/dev/null >"/proc/$BASHPID/loginuid"; then
        read -r SES <"/proc/$BASHPID/sessionid"
    else
        read -r SES <"/proc/$BASHPID/sessionid" || SES=4294967295
    fi
    echo "$SES" >"$SES_FILE"
    SESF=()
    if [[ $SES != 4294967295 ]]; then
        SESF=(-F "sessionid=$SES")
    else
        echo "[capture] WARNING: could not get an audit session id; rules are not session-filtered" >&2
    fi
    # b32 first, so that adding the b64 rule is not itself recorded
    auditctl -a always,exit -F arch=b32 -S execve,execveat "${SESF[@]}" -k "$KEY" >/dev/null
    auditctl -a always,exit -F arch=b64 -S execve,execveat "${SESF[@]}" -k "$KEY" >/dev/null
    run_workload
) || die "workload failed"
SES=$(cat "$SES_FILE")
log "workload done (audit session $SES): rules added were:"
auditctl -l | grep -- "key=$KEY\$" | sed 's/^/[capture]   /' >&2
auditctl -D -k "$KEY" >/dev/null
log "rules removed"

# ---------------------------------------------------------------- 5. flush, stop, copy
# the EXECVE record of /bin/true itself (the wrapper's own python3 event also contains the marker)
MARKER_RECORD="a0=\"true\" a1=\"$END_MARKER\""
for ((i = 0; i < 100; i++)); do
    grep -qaF -- "$MARKER_RECORD" "$TMP/log/audit.log" 2>/dev/null && break
    sleep 0.1
done
grep -qaF -- "$MARKER_RECORD" "$TMP/log/audit.log" || die "end marker not found in $TMP/log/audit.log after 10 s"
sleep 0.5                                   # let the marker event's trailing records (PATH, PROCTITLE, EOE) land too
stop_auditd
NOW_LOST=$(status_field lost "$(auditctl -s)")
if [[ $NOW_LOST != "$ORIG_LOST" ]]; then
    log "WARNING: kernel 'lost' counter went from $ORIG_LOST to $NOW_LOST during the run"
fi

# ---------------------------------------------------------------- 6. check (independent mini-decoder) and trim
cat >"$TMP/check.py" <<'PYEOF'
import os, re, sys
log_in, log_out, tsv, ses, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
raw = open(log_in, "rb").read()
lines = raw.split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
hdr = re.compile(rb"^type=(\S+) msg=audit\((\d+\.\d+):(\d+)\): ?")
tok = re.compile(rb'([A-Za-z0-9_\[\]-]+)=("[^"]*"|\S*)')

def fields(body):
    return {m.group(1): m.group(2) for m in tok.finditer(body)}

def val(v):
    if v.startswith(b'"'):
        return v[1:-1]
    if v == b"(null)":
        return None
    return bytes.fromhex(v.decode())

events = {}
order = []
for ln in lines:
    m = hdr.match(ln)
    if not m:
        sys.exit("unparsable line: %r" % ln[:200])
    rtype, serial = m.group(1), m.group(3)
    body = ln[m.end():]
    raw_part, _, enriched = body.partition(b"\x1d")
    key = (m.group(2), serial)
    if key not in events:
        events[key] = []
        order.append(key)
    events[key].append((rtype, fields(raw_part), fields(enriched), ln))

# trim: only if large, keep events of our session plus daemon/config records
if len(raw) > limit and ses != "4294967295":
    keep = []
    for k in order:
        recs = events[k]
        if any(f.get(b"ses") == ses.encode() for _, f, _, _ in recs) or any(t.startswith(b"DAEMON_") or t == b"CONFIG_CHANGE" for t, _, _, _ in recs):
            keep.append(k)
    out = b"".join(r[3] + b"\n" for k in keep for r in events[k])
    print("trimmed log from %d to %d bytes" % (len(raw), len(out)))
else:
    keep = order
    out = raw
open(log_out, "wb").write(out)

decoded = []
stats = {"execve_records": 0, "multi_record_events": 0, "chunked_args": 0, "hex_chunks": 0, "quoted_chunks": 0, "enriched": 0, "failed_exec": 0}
for k in keep:
    recs = events[k]
    stats["enriched"] += sum(1 for r in recs if b"\x1d" in r[3])
    sc = [r for r in recs if r[0] == b"SYSCALL"]
    if not sc or sc[0][1].get(b"syscall") not in (b"59", b"322"):
        continue
    if sc[0][1].get(b"success") != b"yes":
        stats["failed_exec"] += 1
        continue
    ex = [r for r in recs if r[0] == b"EXECVE"]
    stats["execve_records"] += len(ex)
    if len(ex) > 1:
        stats["multi_record_events"] += 1
    merged = {}
    for _, f, _, _ in ex:
        merged.update(f)
    argc = int(merged[b"argc"])
    argv = []
    for i in range(argc):
        a = b"a%d" % i
        if a in merged:
            argv.append(val(merged[a]))
        else:
            # aN_len is the length of the value as logged: hex digits for hex chunks,
            # bytes (without the quotes) for quoted chunks
            n = int(merged[a + b"_len"])
            stats["chunked_args"] += 1
            chunks = []
            enc_len = 0
            j = 0
            while (a + b"[%d]" % j) in merged:
                v = merged[a + b"[%d]" % j]
                stats["hex_chunks" if not v.startswith(b'"') else "quoted_chunks"] += 1
                enc_len += len(v) - 2 if v.startswith(b'"') else len(v)
                chunks.append(val(v))
                j += 1
            arg = b"".join(chunks)
            if enc_len != n:
                sys.exit("arg %d: a%d_len=%d but the chunks hold %d characters" % (i, i, n, enc_len))
            argv.append(arg)
    p0 = [r for r in recs if r[0] == b"PATH" and r[1].get(b"item") == b"0"]
    name = val(p0[0][1][b"name"]) if p0 else b""
    user = sc[0][2].get(b"UID", b'""').strip(b'"')
    decoded.append(b"%s\t%s\t%s" % (os.path.basename(name), user, b",".join(x.hex().encode() for x in argv)))

have = set(decoded)
expected = [l for l in open(tsv, "rb").read().split(b"\n") if l]
missing = [l for l in expected if l not in have]
print("events: %d, successful exec events: %d, failed exec events: %d" % (len(keep), len(decoded), stats["failed_exec"]))
print("EXECVE records: %d, events spanning several EXECVE records: %d, chunked args: %d (%d quoted chunks, %d hex chunks), records with ENRICHED part: %d"
      % (stats["execve_records"], stats["multi_record_events"], stats["chunked_args"], stats["quoted_chunks"], stats["hex_chunks"], stats["enriched"]))
print("expected lines: %d, found: %d" % (len(expected), len(expected) - len(missing)))
for l in missing:
    print("MISSING: %s" % l[:300].decode(errors="replace"))
sys.exit(1 if missing else 0)
PYEOF

mkdir -p "$FIXTURE_DIR"
log "checking the log against the expected lines (independent mini-decoder)"
"$PY" -I "$TMP/check.py" "$TMP/log/audit.log" "$TMP/fixture.log" "$TSV" "$SES" $((2 * 1024 * 1024)) | sed 's/^/[capture]   /' >&2 \
    || die "expected exec events are missing from the captured log (see above)"
grep -q $'\x1d' "$TMP/fixture.log" || die "log has no ENRICHED (0x1d) fields"
grep -q 'a1_len=' "$TMP/fixture.log" || die "log has no chunked (a1_len=) argument"

install -m 0644 "$TMP/fixture.log" "$FIXTURE_DIR/$NAME.log"
install -m 0644 "$TSV" "$FIXTURE_DIR/$NAME.expected.tsv"
log "wrote $FIXTURE_DIR/$NAME.log ($(stat -c %s "$FIXTURE_DIR/$NAME.log") bytes, $(wc -l <"$FIXTURE_DIR/$NAME.log") records)"
log "wrote $FIXTURE_DIR/$NAME.expected.tsv ($(wc -l <"$FIXTURE_DIR/$NAME.expected.tsv") lines)"
