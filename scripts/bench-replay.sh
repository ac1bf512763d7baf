#!/usr/bin/env bash
# bench-replay.sh — throughput/memory benchmark: `execwatch replay` vs laurel vs ausearch on one big
# audit log.
#
# What it does:
#   1. Builds a large audit log (default 300 MB = 300,000,000 bytes; BENCH_SIZE_MB=N to change) by
#      repeating the real captured log Tests/Fixtures/audit/captured-debian12.log (an ENRICHED auditd
#      log). Copy k gets every audit serial shifted by k*(max serial - min serial + 1) and every
#      timestamp shifted by k*(time span of the log + 1 s), so serials are distinct per copy and both
#      serials and time increase from copy to copy; all records of one event keep one serial and one
#      timestamp. The file is cached in $BENCH_CACHE_DIR (default /tmp/execwatch-bench) as
#      audit-<N>MB.log with a .meta file (fixture checksum, copies, bytes, exec events), so reruns
#      skip this step. Exec events = distinct event ids (timestamp:serial) with an EXECVE record,
#      counted by the generator and re-counted independently with grep/sort on the built file.
#   2. Builds execwatch as it ships (release, `--static-swift-stdlib`, in .build-static), unless
#      BENCH_SKIP_BUILD=1.
#   3. Checks on a small log (3 copies) that each tool really does the work (execwatch events and
#      laurel JSON objects with an EXECVE part = exec events; ausearch prints every EXECVE event),
#      then runs, one after another, each measured with /usr/bin/time (wall, peak RSS, user, sys):
#        execwatch replay FILE --emit incidents --host bench > /dev/null
#        execwatch replay FILE --emit events    --host bench > /dev/null
#        laurel -c CONFIG < FILE > /dev/null        (config: JSON lines to stdout, see below)
#        ausearch -if FILE -m EXECVE --raw > /dev/null
#      Fast tools (first run < BENCH_REPEAT_BELOW_S=10 s) run BENCH_RUNS=3 times, median reported.
#   4. Prints a table (wall s, user+sys s, MB/s, exec events/s, peak RSS MB; MB = 10^6 bytes),
#      execwatch's speed-up over laurel and ausearch, and whether the goals hold: throughput
#      >= 20x laurel, >= 2x ausearch, peak RSS < 50 MB.
#
# laurel: it is an auditd plugin that reads records (auditd "string" plugin format = audit.log line
# format; ENRICHED fields after 0x1d are accepted) on stdin. `[auditlog] file = "-"` makes it write
# its JSON lines to stdout; no `user` is set, so it keeps running as root and needs no _laurel
# account; `directory` is a private temp dir (laurel chdirs there; nothing is written with file="-").
# All other settings are laurel's built-in defaults (same as the shipped /etc/laurel/config.toml
# transforms/enrichments: ARGV arrays, pid/container/script enrichment, LD_PRELOAD/LD_LIBRARY_PATH
# env); the audit.log input needs no node= prefix and no stripping of the ENRICHED part.
#
# ausearch exit status: 0 = matches found, 1 = no matches (with --raw nothing on stderr) OR an
# error (message on stderr). 1 with an empty stderr is reported as "no matches", not as a failure.
#
# Exit status: 0 when every tool ran (even if a goal is missed — it reports); 1 if a tool failed,
# produced wrong results on the check log, or the build failed.
#
# Environment: BENCH_SIZE_MB (300), BENCH_SKIP_BUILD (unset), BENCH_CACHE_DIR (/tmp/execwatch-bench),
#              BENCH_FIXTURE (the captured log), BENCH_HOST (bench), BENCH_RUNS (3),
#              BENCH_REPEAT_BELOW_S (10), BENCH_KEEP_WORK=1 (keep the per-run temp dir for debugging).
# Needs root only to install missing packages (time, laurel, auditd) with apt-get.
set -euo pipefail

SCRIPT_START=$(date +%s.%N)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURE=${BENCH_FIXTURE:-$REPO/Tests/Fixtures/audit/captured-debian12.log}
SIZE_MB=${BENCH_SIZE_MB:-300}
CACHE_DIR=${BENCH_CACHE_DIR:-/tmp/execwatch-bench}
HOST_NAME=${BENCH_HOST:-bench}
GENERATOR_VERSION=1
CHECK_COPIES=3

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -gt 0 ]] || die "BENCH_SIZE_MB must be a positive integer, got '$SIZE_MB'"
[[ -r $FIXTURE ]] || die "fixture not readable: $FIXTURE"

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
"$REPO/scripts/install-deps.sh" bench || die "cannot install what the benchmark needs"
LAUREL=$(command -v laurel)
AUSEARCH=$(command -v ausearch)
TIME=/usr/bin/time

mkdir -p "$CACHE_DIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/execwatch-bench-run.XXXXXX")
trap '[[ ${BENCH_KEEP_WORK:-} == 1 ]] && log "kept $WORK" || rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# 1. The big audit log
# ---------------------------------------------------------------------------------------------
# generate FIXTURE COPIES OUT META — streams COPIES renumbered copies of FIXTURE to OUT and writes
# "key=value" lines (copies, exec_events_per_copy, exec_events, bytes, serial_stride, time_shift_ms)
# to META. Lines without an audit header are copied unchanged.
generate() {
    perl -e '
use strict; use warnings;
my ($in, $copies, $out, $meta) = @ARGV;
open(my $fh, "<:raw", $in) or die "open $in: $!\n";
my (@recs, %exec_ids);
my ($min_ms, $max_ms, $min_ser, $max_ser);
while (my $l = <$fh>) {
    if ($l =~ /\A(.*?msg=audit\()(\d+)\.(\d{3}):(\d+)(\).*)\z/s) {
        my ($pre, $ms, $ser, $post) = ($1, $2 * 1000 + $3, $4 + 0, $5);
        push @recs, [$pre, $ms, $ser, $post];
        $min_ms  = $ms  if !defined $min_ms  || $ms  < $min_ms;
        $max_ms  = $ms  if !defined $max_ms  || $ms  > $max_ms;
        $min_ser = $ser if !defined $min_ser || $ser < $min_ser;
        $max_ser = $ser if !defined $max_ser || $ser > $max_ser;
        $exec_ids{"$ms:$ser"} = 1 if $pre =~ /\A(?:node=\S+ )?type=EXECVE msg=audit\(\z/;
    } else {
        push @recs, [$l];
    }
}
close $fh;
die "no audit records in $in\n" unless defined $min_ms;
my $stride = $max_ser - $min_ser + 1;
my $shift  = $max_ms - $min_ms + 1000;
die "serials would exceed 2^32-1\n" if $max_ser + ($copies - 1) * $stride > 4294967295;
open(my $o, ">:raw", $out) or die "open $out: $!\n";
my $bytes = 0;
for my $k (0 .. $copies - 1) {
    my ($ds, $dt) = ($k * $stride, $k * $shift);
    my $buf = "";
    for my $r (@recs) {
        if (@$r == 1) { $buf .= $r->[0]; next; }
        my $ms = $r->[1] + $dt;
        $buf .= $r->[0] . int($ms / 1000) . "." . sprintf("%03d", $ms % 1000) . ":" . ($r->[2] + $ds) . $r->[3];
    }
    print {$o} $buf or die "write $out: $!\n";
    $bytes += length $buf;
}
close $o or die "close $out: $!\n";
my $per = scalar keys %exec_ids;
open(my $m, ">", $meta) or die "open $meta: $!\n";
print {$m} "copies=$copies\nexec_events_per_copy=$per\nexec_events=", $per * $copies,
    "\nbytes=$bytes\nserial_stride=$stride\ntime_shift_ms=$shift\n";
close $m;
' "$@"
}

# count_exec_events FILE — independent count: distinct msg=audit(ts:serial) ids of EXECVE records.
count_exec_events() {
    LC_ALL=C grep -a -E '^(node=[^ ]+ )?type=EXECVE msg=audit\(' "$1" \
        | LC_ALL=C cut -d')' -f1 | LC_ALL=C sed -E 's/^.*msg=audit\(//' \
        | LC_ALL=C sort -u | wc -l
}

meta_get() { sed -n "s/^$2=//p" "$1"; }

FIXTURE_BYTES=$(stat -c %s "$FIXTURE")
FIXTURE_SUM=$(sha256sum "$FIXTURE" | cut -d' ' -f1)
TARGET_BYTES=$((SIZE_MB * 1000000))
COPIES=$(((TARGET_BYTES + FIXTURE_BYTES - 1) / FIXTURE_BYTES))
BIG=$CACHE_DIR/audit-${SIZE_MB}MB.log
BIG_META=$BIG.meta

cache_ok() {
    [[ -f $BIG && -f $BIG_META ]] || return 1
    [[ $(meta_get "$BIG_META" fixture_sha256) == "$FIXTURE_SUM" ]] || return 1
    [[ $(meta_get "$BIG_META" generator) == "$GENERATOR_VERSION" ]] || return 1
    [[ $(meta_get "$BIG_META" copies) == "$COPIES" ]] || return 1
    [[ $(meta_get "$BIG_META" bytes) == "$(stat -c %s "$BIG")" ]] || return 1
}

if cache_ok; then
    log "reusing cached $BIG"
else
    log "building $BIG: $COPIES copies of $(basename "$FIXTURE") ($FIXTURE_BYTES bytes)"
    gen_start=$(date +%s.%N)
    rm -f "$BIG" "$BIG_META"
    generate "$FIXTURE" "$COPIES" "$BIG.tmp" "$BIG_META.tmp" || die "generator failed"
    independent=$(count_exec_events "$BIG.tmp")
    [[ $independent == "$(meta_get "$BIG_META.tmp" exec_events)" ]] \
        || die "exec event count mismatch: generator $(meta_get "$BIG_META.tmp" exec_events), grep $independent"
    { echo "generator=$GENERATOR_VERSION"; echo "fixture_sha256=$FIXTURE_SUM"
      echo "exec_events_counted=$independent"; } >> "$BIG_META.tmp"
    mv "$BIG.tmp" "$BIG"
    mv "$BIG_META.tmp" "$BIG_META"
    log "built in $(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
fi
BIG_BYTES=$(meta_get "$BIG_META" bytes)
EXEC_EVENTS=$(meta_get "$BIG_META" exec_events)
EXEC_PER_COPY=$(meta_get "$BIG_META" exec_events_per_copy)

# Small check log (not cached: a few MB, < 1 s).
CHECK=$WORK/check.log
generate "$FIXTURE" "$CHECK_COPIES" "$CHECK" "$CHECK.meta"
CHECK_EVENTS=$(meta_get "$CHECK.meta" exec_events)

# ---------------------------------------------------------------------------------------------
# 2. execwatch
# ---------------------------------------------------------------------------------------------
# The binary as it ships: release, Swift runtime linked statically (--static-swift-stdlib), in
# a build folder of its own (.build-static) so the ordinary release build is left alone.
BUILD_FLAGS=(-c release --product execwatch --static-swift-stdlib --scratch-path "$REPO/.build-static")
if [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
    log "swift build ${BUILD_FLAGS[*]}"
    (cd "$REPO" && swift build "${BUILD_FLAGS[@]}") >"$WORK/build.log" 2>&1 || {
        tail -n 40 "$WORK/build.log" >&2
        die "swift build failed"
    }
fi
BIN_DIR=$(cd "$REPO" && swift build "${BUILD_FLAGS[@]}" --show-bin-path)
EXECWATCH=$BIN_DIR/execwatch
[[ -x $EXECWATCH ]] || die "no execwatch binary at $EXECWATCH (build it, or unset BENCH_SKIP_BUILD)"

# ---------------------------------------------------------------------------------------------
# 3. laurel configuration
# ---------------------------------------------------------------------------------------------
LAUREL_DIR=$WORK/laurel
mkdir -p "$LAUREL_DIR"
LAUREL_CONFIG=$LAUREL_DIR/config.toml
cat >"$LAUREL_CONFIG" <<EOF
# laurel for benchmarking: JSON lines to stdout, no privilege drop (no user), defaults otherwise.
directory = "$LAUREL_DIR"
statusreport-period = 0

[auditlog]
file = "-"
EOF
"$LAUREL" -c "$LAUREL_CONFIG" --dry-run >/dev/null 2>"$WORK/laurel-dry.err" || {
    cat "$WORK/laurel-dry.err" >&2; die "laurel rejects $LAUREL_CONFIG"; }

# ---------------------------------------------------------------------------------------------
# Correctness check on the small log: every tool must see every exec event.
# ---------------------------------------------------------------------------------------------
failed=0
check_fail() { log "CHECK FAILED: $*"; failed=1; }

log "checking the tools on a ${CHECK_COPIES}-copy log ($(stat -c %s "$CHECK") bytes, $CHECK_EVENTS exec events)"
if "$EXECWATCH" replay "$CHECK" --emit events --host "$HOST_NAME" >"$WORK/ck-ew.out" 2>"$WORK/ck-ew.err"; then
    n=$(grep -c . "$WORK/ck-ew.out" || true)
    [[ $n == "$CHECK_EVENTS" ]] || check_fail "execwatch --emit events printed $n events, expected $CHECK_EVENTS ($(tail -n1 "$WORK/ck-ew.err"))"
else
    check_fail "execwatch replay exited $?: $(tail -n 5 "$WORK/ck-ew.err")"
fi
if "$LAUREL" -c "$LAUREL_CONFIG" <"$CHECK" >"$WORK/ck-laurel.out" 2>"$WORK/ck-laurel.err"; then
    n=$(grep -c '"EXECVE":{' "$WORK/ck-laurel.out" || true)
    [[ $n == "$CHECK_EVENTS" ]] || check_fail "laurel printed $n JSON events with EXECVE, expected $CHECK_EVENTS"
    if grep -q 'Error' "$WORK/ck-laurel.err"; then
        check_fail "laurel reported errors: $(grep -m3 Error "$WORK/ck-laurel.err")"
    fi
else
    check_fail "laurel exited $?: $(tail -n 5 "$WORK/ck-laurel.err")"
fi
rc=0
"$AUSEARCH" -if "$CHECK" -m EXECVE --raw >"$WORK/ck-ausearch.out" 2>"$WORK/ck-ausearch.err" || rc=$?
if [[ $rc -le 1 && ! -s $WORK/ck-ausearch.err ]]; then
    n=$(count_exec_events "$WORK/ck-ausearch.out")
    [[ $n == "$CHECK_EVENTS" ]] || check_fail "ausearch printed $n EXECVE events, expected $CHECK_EVENTS"
else
    check_fail "ausearch exited $rc: $(head -n 5 "$WORK/ck-ausearch.err")"
fi
((failed == 0)) || die "a tool does not process the check log correctly; not benchmarking"
CHECK_LAUREL_BYTES=$(stat -c %s "$WORK/ck-laurel.out")
CHECK_AUSEARCH_BYTES=$(stat -c %s "$WORK/ck-ausearch.out")
CHECK_EW_BYTES=$(stat -c %s "$WORK/ck-ew.out")
rm -f "$WORK"/ck-*.out

# ---------------------------------------------------------------------------------------------
# 4. Measured runs
# ---------------------------------------------------------------------------------------------
# Each tool runs alone. A tool whose first run is shorter than BENCH_REPEAT_BELOW_S (10 s) is run
# BENCH_RUNS (3) times and the run with the median wall time is reported (peak RSS: maximum over
# the runs); slow tools (laurel) run once. Wall time is taken with bash's $EPOCHREALTIME around
# /usr/bin/time (resolution 1 µs; GNU time's %e has only 10 ms, shown as "time %e").
RUNS=${BENCH_RUNS:-3}
REPEAT_BELOW_S=${BENCH_REPEAT_BELOW_S:-10}
NAMES=() WALL=() TIME_E=() CPU=() RSS=() STATUS=() CMDS=() ALL_WALLS=()

# measure NAME STDIN_FILE CMD... — runs CMD under /usr/bin/time, stdout to /dev/null, stderr to
# $WORK/NAME.err (of the last run). STDIN_FILE "-" means stdin from /dev/null. Sets LAST_RC.
measure() {
    local name=$1 input=$2; shift 2
    local tf=$WORK/$name.time ef=$WORK/$name.err rc=0 shown in=/dev/null
    shown="$(printf '%q ' "$@")"
    shown=${shown% }
    if [[ $input != - ]]; then shown+=" < $(printf '%q' "$input")"; in=$input; fi
    shown+=" > /dev/null"
    log "running $name: $shown"
    local r walls=() lines=() t0 t1 wall_s
    for ((r = 1; r <= RUNS; r++)); do
        rc=0
        t0=$EPOCHREALTIME
        "$TIME" -f '%e %M %U %S' -o "$tf" "$@" <"$in" >/dev/null 2>"$ef" || rc=$?
        t1=$EPOCHREALTIME
        wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
        walls+=("$wall_s")
        lines+=("$wall_s $(tail -n1 "$tf")")
        ((rc == 0)) || break
        awk -v w="$wall_s" -v m="$REPEAT_BELOW_S" 'BEGIN{exit !(w < m)}' || break
    done
    # median by wall time; peak RSS = max over runs
    local med maxrss
    med=$(printf '%s\n' "${lines[@]}" | sort -n -k1,1 | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}')
    maxrss=$(printf '%s\n' "${lines[@]}" | awk '$3 > m {m = $3} END{print m+0}')
    local wall e rss user sys
    read -r wall e rss user sys <<<"$med"
    NAMES+=("$name")
    WALL+=("$wall")
    TIME_E+=("$e")
    CPU+=("$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')")
    RSS+=("$maxrss")
    ALL_WALLS+=("${walls[*]}")
    CMDS+=("$TIME -f '%e %M %U %S' $shown")
    LAST_RC=$rc
}

# status_from RC ERRFILE — "ok" or "FAILED (exit N)" (and mark the whole run failed)
record_status() {
    if (($1 == 0)); then STATUS+=(ok); else
        STATUS+=("FAILED (exit $1)"); failed=1
        log "$2 failed:"; tail -n 5 "$WORK/$2.err" >&2
    fi
}

measure execwatch-incidents - "$EXECWATCH" replay "$BIG" --emit incidents --host "$HOST_NAME"
record_status "$LAST_RC" execwatch-incidents
EW_INC_SUMMARY=$(grep '^replay:' "$WORK/execwatch-incidents.err" | tail -n1 || true)

measure execwatch-events - "$EXECWATCH" replay "$BIG" --emit events --host "$HOST_NAME"
record_status "$LAST_RC" execwatch-events
EW_EV_SUMMARY=$(grep '^replay:' "$WORK/execwatch-events.err" | tail -n1 || true)

measure laurel "$BIG" "$LAUREL" -c "$LAUREL_CONFIG"
record_status "$LAST_RC" laurel
# laurel prefixes its messages with argv[0]: "/usr/sbin/laurel: Stopped /usr/sbin/laurel processed ..."
LAUREL_STOP=$(grep -E 'Stopped .* processed ' "$WORK/laurel.err" | tail -n1 | sed -E 's|^[^:]*: ||; s|Stopped [^ ]*|Stopped laurel|' || true)
LAUREL_ERRORS=$(grep -c 'Error' "$WORK/laurel.err" || true)

# ausearch: exit 1 with an empty stderr = no matches (with --raw it prints nothing then)
measure ausearch - "$AUSEARCH" -if "$BIG" -m EXECVE --raw
if ((LAST_RC == 1)) && [[ ! -s $WORK/ausearch.err ]]; then
    STATUS+=("NO MATCHES (exit 1)")
else
    record_status "$LAST_RC" ausearch
fi

# ---------------------------------------------------------------------------------------------
# 5. Report
# ---------------------------------------------------------------------------------------------
echo
echo "== execwatch replay benchmark =="
echo "input:  $BIG"
echo "        $(awk -v b="$BIG_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB ($BIG_BYTES bytes), $(meta_get "$BIG_META" copies) renumbered copies of $(basename "$FIXTURE")"
echo "        $EXEC_EVENTS exec events ($EXEC_PER_COPY per copy = distinct event ids with an EXECVE record;" \
     "independent grep count: $(meta_get "$BIG_META" exec_events_counted))"
echo "host:   $(nproc) cores, kernel $(uname -r), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MB = 10^6 bytes; wall = median of the runs; peak RSS = GNU time %M (max over the runs)"
echo
{
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' tool "wall s" "user+sys s" "MB/s" "events/s" "peak RSS MB" \
        "time %e" runs status
    for i in "${!NAMES[@]}"; do
        awk -v n="${NAMES[$i]}" -v w="${WALL[$i]}" -v c="${CPU[$i]}" -v r="${RSS[$i]}" -v te="${TIME_E[$i]}" \
            -v b="$BIG_BYTES" -v e="$EXEC_EVENTS" -v st="${STATUS[$i]}" -v runs="${ALL_WALLS[$i]}" 'BEGIN{
            if (w <= 0) w = 0.001
            printf "%s\t%.3f\t%.2f\t%.1f\t%.0f\t%.1f\t%s\t%s\t%s\n", n, w, c, b/1e6/w, e/w, r*1024/1e6, te, runs, st }'
    done
} | column -t -s $'\t'
echo
echo "execwatch summary (--emit incidents): ${EW_INC_SUMMARY:-<none>}"
echo "execwatch summary (--emit events):    ${EW_EV_SUMMARY:-<none>}"
echo "laurel:   ${LAUREL_STOP:-<no summary line>}; $LAUREL_ERRORS error lines on stderr"
echo "check log ($CHECK_COPIES copies, $(stat -c %s "$CHECK") bytes, $CHECK_EVENTS exec events): every tool output all exec events;" \
     "output bytes: execwatch --emit events $CHECK_EW_BYTES, laurel $CHECK_LAUREL_BYTES, ausearch $CHECK_AUSEARCH_BYTES"
for s in "$EW_INC_SUMMARY" "$EW_EV_SUMMARY"; do
    got=$(sed -nE 's/.* ([0-9]+) events,.*/\1/p' <<<"$s")
    if [[ -n $got && $got != "$EXEC_EVENTS" ]]; then
        echo "NOTE: execwatch reported $got events, the log has $EXEC_EVENTS exec events"
    fi
done

idx() { local i; for i in "${!NAMES[@]}"; do [[ ${NAMES[$i]} == "$1" ]] && { echo "$i"; return; }; done; }
L=$(idx laurel); A=$(idx ausearch)
echo
echo "speed-up of execwatch (throughput ratio = other tool's wall / execwatch's wall) and goals:"
all_ok=1
for mode in execwatch-events execwatch-incidents; do
    E=$(idx "$mode")
    line=$(awk -v e="${WALL[$E]}" -v l="${WALL[$L]}" -v a="${WALL[$A]}" -v r="${RSS[$E]}" 'BEGIN{
        if (e <= 0) e = 0.001
        vl = l / e; va = a / e; rmb = r * 1024 / 1e6
        gl = (vl >= 20) ? "MET" : "MISSED"
        ga = (va >= 2) ? "MET" : "MISSED"
        gr = (rmb < 50) ? "MET" : "MISSED"
        ok = (gl == "MET" && ga == "MET" && gr == "MET") ? 1 : 0
        printf "%d|%.1fx laurel (goal >= 20x: %s), %.2fx ausearch (goal >= 2x: %s), peak RSS %.1f MB (goal < 50 MB: %s)", ok, vl, gl, va, ga, rmb, gr }')
    [[ ${line%%|*} == 1 ]] || all_ok=0
    printf '  %-21s %s\n' "$mode:" "${line#*|}"
done
if ((all_ok)); then echo "goals: ALL MET"; else echo "goals: NOT ALL MET"; fi

echo
echo "commands (each tool alone, one after another; stdout to /dev/null, stderr captured):"
for c in "${CMDS[@]}"; do echo "  $c"; done
echo "laurel config ($LAUREL_CONFIG):"
sed 's/^/  | /' "$LAUREL_CONFIG"
echo "script run time: $(awk -v a="$SCRIPT_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}') s"

if ((failed)); then
    log "at least one tool failed"
    exit 1
fi
exit 0
