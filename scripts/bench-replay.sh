#!/usr/bin/env bash
# bench-replay.sh — throughput/memory benchmark: `execwatch replay` vs laurel vs ausearch on two big
# audit logs (sparse and exec-dense), with the netcat rule and with the Sigma corpus.
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
#      That log is "sparse": the fixture's few execs with 40 kB argv make most of its bytes (about
#      12 kB per exec). Beside it, the same way and of the same size, an exec-dense log
#      (audit-dense-<N>MB.log): the fixture reduced to its exec events with an argv under 4 kB
#      of EXECVE records (every record of those events, nothing else), repeated, so that per-exec
#      work dominates (about 700 bytes per exec).
#   2. Builds execwatch as it ships (release, `--static-swift-stdlib`, in .build-static), unless
#      BENCH_SKIP_BUILD=1 or BENCH_BIN names a binary to measure instead (e.g. an older build, to
#      compare two back to back).
#   3. Checks on small logs (3 copies, sparse and dense) that each tool really does the work
#      (execwatch events and laurel JSON objects with an EXECVE part = exec events; ausearch prints
#      every EXECVE event; replay with the Sigma corpus loads it and runs), then runs on each big
#      log, one after another, each measured with /usr/bin/time (wall, peak RSS, user, sys):
#        ausearch -if FILE -m EXECVE --raw > /dev/null
#        execwatch replay FILE --emit incidents --host bench > /dev/null       (the netcat rule)
#        execwatch replay FILE --emit events    --host bench > /dev/null
#        execwatch replay FILE --emit incidents --host bench --rules rules --rules SIGMA > /dev/null
#        laurel -c CONFIG < FILE > /dev/null   (sparse log only; config: JSON lines to stdout)
#      SIGMA: $SIGMA_RULES, default ../shared/corpora/sigma/rules beside the repository (read in
#      place, never copied).
#      Fast tools (first run < BENCH_REPEAT_BELOW_S=10 s) run BENCH_RUNS=3 times, median reported;
#      the tools run in rounds (one run each, every other round in reverse order), not each
#      tool's runs back to back. Before every run, the log, the tools' executables with their
#      shared libraries and the rule files are read into the page cache (warm_files), so that no
#      run reads them from disk.
#   4. Prints one table (per log and tool: wall s, user+sys s, MB/s, exec events/s, peak RSS MB,
#      speed relative to ausearch on the same log = ausearch's wall / the tool's; MB = 10^6 bytes)
#      and whether the goals hold, on both logs: netcat rule >= 2x ausearch, --emit events >= 1x,
#      Sigma corpus >= 1x, peak RSS < 50 MB; on the sparse log also >= 20x laurel.
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
# Environment: BENCH_SIZE_MB (300), BENCH_SKIP_BUILD (unset), BENCH_BIN (unset: the static build),
#              BENCH_CACHE_DIR (/tmp/execwatch-bench),
#              BENCH_FIXTURE (the captured log), BENCH_HOST (bench), BENCH_RUNS (3),
#              BENCH_REPEAT_BELOW_S (10), BENCH_KEEP_WORK=1 (keep the per-run temp dir for debugging),
#              SIGMA_RULES (../shared/corpora/sigma/rules beside the repository).
# Needs root only to install missing packages (time, laurel, auditd) with apt-get.
set -euo pipefail

SCRIPT_START=$(date +%s.%N)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURE=${BENCH_FIXTURE:-$REPO/Tests/Fixtures/audit/captured-debian12.log}
SIZE_MB=${BENCH_SIZE_MB:-300}
CACHE_DIR=${BENCH_CACHE_DIR:-/tmp/execwatch-bench}
HOST_NAME=${BENCH_HOST:-bench}
GENERATOR_VERSION=1
SIGMA_RULES=${SIGMA_RULES:-$(cd "$REPO/.." && pwd)/shared/corpora/sigma/rules}
DENSE_MAX_ARGV_BYTES=4096
CHECK_COPIES=3

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -gt 0 ]] || die "BENCH_SIZE_MB must be a positive integer, got '$SIZE_MB'"
[[ -r $FIXTURE ]] || die "fixture not readable: $FIXTURE"
[[ -d $SIGMA_RULES ]] || die "no Sigma rules at $SIGMA_RULES (set SIGMA_RULES to a directory of SigmaHQ rules)"

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

# dense_fixture FIXTURE OUT — the exec events of FIXTURE whose EXECVE records hold fewer than
# DENSE_MAX_ARGV_BYTES bytes: every record of those events in their order, nothing else.
dense_fixture() {
    perl -e '
use strict; use warnings;
my ($in, $out, $max) = @ARGV;
open(my $fh, "<:raw", $in) or die "open $in: $!\n";
my (@lines, %execve_bytes);
while (my $l = <$fh>) {
    next unless $l =~ /msg=audit\((\d+\.\d{3}:\d+)\)/;
    my $id = $1;
    push @lines, [$id, $l];
    $execve_bytes{$id} += length $l if $l =~ /\A(?:node=\S+ )?type=EXECVE /;
}
close $fh;
open(my $o, ">:raw", $out) or die "open $out: $!\n";
for my $r (@lines) {
    my $b = $execve_bytes{$r->[0]};
    print {$o} $r->[1] if defined $b && $b < $max;
}
close $o or die "close $out: $!\n";
' "$@"
}

meta_get() { sed -n "s/^$2=//p" "$1"; }

# build_log OUT SOURCE_FIXTURE — OUT (with OUT.meta) of SIZE_MB from copies of SOURCE_FIXTURE,
# reused when cached for the same fixture, generator and size.
build_log() {
    local out=$1 source=$2 meta=$1.meta source_bytes source_sum copies
    source_bytes=$(stat -c %s "$source")
    source_sum=$(sha256sum "$source" | cut -d' ' -f1)
    copies=$(((SIZE_MB * 1000000 + source_bytes - 1) / source_bytes))
    if [[ -f $out && -f $meta && $(meta_get "$meta" fixture_sha256) == "$source_sum" &&
        $(meta_get "$meta" generator) == "$GENERATOR_VERSION" && $(meta_get "$meta" copies) == "$copies" &&
        $(meta_get "$meta" bytes) == "$(stat -c %s "$out")" ]]; then
        log "reusing cached $out"
        return
    fi
    log "building $out: $copies copies of $(basename "$source") ($source_bytes bytes)"
    local gen_start independent
    gen_start=$(date +%s.%N)
    rm -f "$out" "$meta"
    generate "$source" "$copies" "$out.tmp" "$meta.tmp" || die "generator failed"
    independent=$(count_exec_events "$out.tmp")
    [[ $independent == "$(meta_get "$meta.tmp" exec_events)" ]] \
        || die "exec event count mismatch: generator $(meta_get "$meta.tmp" exec_events), grep $independent"
    { echo "generator=$GENERATOR_VERSION"; echo "fixture_sha256=$source_sum"
      echo "exec_events_counted=$independent"; } >> "$meta.tmp"
    mv "$out.tmp" "$out"
    mv "$meta.tmp" "$meta"
    log "built in $(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
}

DENSE_FIXTURE=$WORK/dense-fixture.log
dense_fixture "$FIXTURE" "$DENSE_FIXTURE" "$DENSE_MAX_ARGV_BYTES" || die "cannot reduce $FIXTURE to its short execs"
LOGS=(sparse dense)
declare -A LOG_PATH LOG_SOURCE LOG_BYTES LOG_EVENTS LOG_PER_COPY LOG_COPIES LOG_COUNTED CHECK_PATH CHECK_EVENTS
LOG_PATH[sparse]=$CACHE_DIR/audit-${SIZE_MB}MB.log LOG_SOURCE[sparse]=$FIXTURE
LOG_PATH[dense]=$CACHE_DIR/audit-dense-${SIZE_MB}MB.log LOG_SOURCE[dense]=$DENSE_FIXTURE
for name in "${LOGS[@]}"; do
    build_log "${LOG_PATH[$name]}" "${LOG_SOURCE[$name]}"
    m=${LOG_PATH[$name]}.meta
    LOG_BYTES[$name]=$(meta_get "$m" bytes) LOG_EVENTS[$name]=$(meta_get "$m" exec_events)
    LOG_PER_COPY[$name]=$(meta_get "$m" exec_events_per_copy) LOG_COPIES[$name]=$(meta_get "$m" copies)
    LOG_COUNTED[$name]=$(meta_get "$m" exec_events_counted)
    # Small check log (not cached: a few MB, < 1 s).
    CHECK_PATH[$name]=$WORK/check-$name.log
    generate "${LOG_SOURCE[$name]}" "$CHECK_COPIES" "${CHECK_PATH[$name]}" "${CHECK_PATH[$name]}.meta"
    CHECK_EVENTS[$name]=$(meta_get "${CHECK_PATH[$name]}.meta" exec_events)
done

# ---------------------------------------------------------------------------------------------
# 2. execwatch
# ---------------------------------------------------------------------------------------------
# The binary as it ships: release, Swift runtime linked statically (--static-swift-stdlib), in
# a build folder of its own (.build-static) so the ordinary release build is left alone.
BUILD_FLAGS=(-c release --product execwatch --static-swift-stdlib --scratch-path "$REPO/.build-static")
if [[ -n ${BENCH_BIN:-} ]]; then
    [[ -x $BENCH_BIN ]] || die "BENCH_BIN=$BENCH_BIN is not an executable"
    EXECWATCH=$(realpath "$BENCH_BIN")
    # Its shipped rules are this tree's, wherever it was built.
    export EXECWATCH_RULES_DIR=${EXECWATCH_RULES_DIR:-$REPO/rules}
else
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
fi
log "measuring $EXECWATCH"

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
# Correctness check on the small logs: every tool must see every exec event.
# ---------------------------------------------------------------------------------------------
failed=0
CHECK_NOTES=()
check_fail() { log "CHECK FAILED: $*"; failed=1; }

for name in "${LOGS[@]}"; do
    CHECK=${CHECK_PATH[$name]}
    n_expected=${CHECK_EVENTS[$name]}
    log "checking the tools on a ${CHECK_COPIES}-copy $name log ($(stat -c %s "$CHECK") bytes, $n_expected exec events)"
    if "$EXECWATCH" replay "$CHECK" --emit events --host "$HOST_NAME" >"$WORK/ck-ew.out" 2>"$WORK/ck-ew.err"; then
        n=$(grep -c . "$WORK/ck-ew.out" || true)
        [[ $n == "$n_expected" ]] || check_fail "$name: execwatch --emit events printed $n events, expected $n_expected ($(tail -n1 "$WORK/ck-ew.err"))"
    else
        check_fail "$name: execwatch replay exited $?: $(tail -n 5 "$WORK/ck-ew.err")"
    fi
    if "$EXECWATCH" replay "$CHECK" --emit incidents --host "$HOST_NAME" --rules "$REPO/rules" --rules "$SIGMA_RULES" \
        >"$WORK/ck-sigma.out" 2>"$WORK/ck-sigma.err"; then
        grep -q "^replay: .* $n_expected events," "$WORK/ck-sigma.err" \
            || check_fail "$name: execwatch replay with the Sigma corpus: $(tail -n1 "$WORK/ck-sigma.err")"
    else
        check_fail "$name: execwatch replay with the Sigma corpus exited $?: $(tail -n 5 "$WORK/ck-sigma.err")"
    fi
    if [[ $name == sparse ]]; then
        if "$LAUREL" -c "$LAUREL_CONFIG" <"$CHECK" >"$WORK/ck-laurel.out" 2>"$WORK/ck-laurel.err"; then
            n=$(grep -c '"EXECVE":{' "$WORK/ck-laurel.out" || true)
            [[ $n == "$n_expected" ]] || check_fail "laurel printed $n JSON events with EXECVE, expected $n_expected"
            if grep -q 'Error' "$WORK/ck-laurel.err"; then
                check_fail "laurel reported errors: $(grep -m3 Error "$WORK/ck-laurel.err")"
            fi
        else
            check_fail "laurel exited $?: $(tail -n 5 "$WORK/ck-laurel.err")"
        fi
        CHECK_LAUREL_BYTES=$(stat -c %s "$WORK/ck-laurel.out")
    fi
    rc=0
    "$AUSEARCH" -if "$CHECK" -m EXECVE --raw >"$WORK/ck-ausearch.out" 2>"$WORK/ck-ausearch.err" || rc=$?
    if [[ $rc -le 1 && ! -s $WORK/ck-ausearch.err ]]; then
        n=$(count_exec_events "$WORK/ck-ausearch.out")
        [[ $n == "$n_expected" ]] || check_fail "$name: ausearch printed $n EXECVE events, expected $n_expected"
    else
        check_fail "$name: ausearch exited $rc: $(head -n 5 "$WORK/ck-ausearch.err")"
    fi
    CHECK_NOTES+=("$name check log ($CHECK_COPIES copies, $(stat -c %s "$CHECK") bytes, $n_expected exec events): every tool output all exec events; output bytes: execwatch --emit events $(stat -c %s "$WORK/ck-ew.out"), ausearch $(stat -c %s "$WORK/ck-ausearch.out")${CHECK_LAUREL_BYTES:+, laurel $CHECK_LAUREL_BYTES}")
    unset CHECK_LAUREL_BYTES
    rm -f "$WORK"/ck-*.out
done
((failed == 0)) || die "a tool does not process the check logs correctly; not benchmarking"

# ---------------------------------------------------------------------------------------------
# 4. Measured runs
# ---------------------------------------------------------------------------------------------
# Each tool runs alone, one run at a time. On each log the tools run in rounds, one run of each
# per round, every other round in reverse order (as in bench-host-tax.sh), so that a slow spell
# of the host (another VM on its cores, say) falls on every tool alike instead of on one tool's
# runs back to back. A tool whose first run takes BENCH_REPEAT_BELOW_S (10 s) or longer (laurel)
# runs once; the others BENCH_RUNS (3) times, and the run with the median wall time is reported
# (peak RSS: maximum over the runs). Wall time is taken with bash's $EPOCHREALTIME around
# /usr/bin/time (resolution 1 µs; GNU time's %e has only 10 ms, shown as "time %e").
RUNS=${BENCH_RUNS:-3}
REPEAT_BELOW_S=${BENCH_REPEAT_BELOW_S:-10}
NAMES=() ROW_LOG=() WALL=() TIME_E=() CPU=() RSS=() STATUS=() CMDS=() ALL_WALLS=() SUMMARIES=()

# The tools of the current log: TOOL_ORDER (names), and per name its command (TOOL_CMD: %q-quoted,
# for eval), its stdin (TOOL_IN, "-" = /dev/null), its runs so far (TOOL_LINES: "wall e rss user
# sys" per line), its walls (TOOL_WALLS), its last exit status (TOOL_RC) and whether it repeats.
declare -A TOOL_CMD TOOL_IN TOOL_LINES TOOL_WALLS TOOL_RC TOOL_REPEATS
TOOL_ORDER=()

# tool NAME STDIN_FILE CMD... — adds a tool to the current log's rounds. STDIN_FILE "-": /dev/null.
tool() {
    local name=$1 input=$2; shift 2
    TOOL_ORDER+=("$name")
    TOOL_CMD[$name]=$(printf '%q ' "$@")
    TOOL_IN[$name]=$input TOOL_LINES[$name]="" TOOL_WALLS[$name]="" TOOL_RC[$name]=0 TOOL_REPEATS[$name]=1
    local shown=${TOOL_CMD[$name]% }
    [[ $input != - ]] && shown+=" < $(printf '%q' "$input")"
    CMDS+=("$TIME -f '%e %M %U %S' $shown > /dev/null")
}

# The files every run reads, besides the log: each tool's executable and the shared libraries it
# loads, the shipped rules and the Sigma corpus. warm_files reads them, and the current log, into
# the page cache before every run, for every tool alike, so that each run reads its input from
# memory. Without it, a run could read some of them from disk: the host may page out what has not
# been touched for a while (on our VMs, DAMON's `pageout` scheme does so after about a minute,
# page cache included), and laurel's minute-long run comes between the first rounds.
WARM_FILES=("$EXECWATCH" "$AUSEARCH" "$LAUREL")
for exe in "$EXECWATCH" "$AUSEARCH" "$LAUREL"; do
    while read -r lib; do WARM_FILES+=("$lib"); done < <(ldd "$exe" 2>/dev/null | grep -o '/[^ ]*' || true)
done
while IFS= read -r -d '' f; do WARM_FILES+=("$f"); done < <(find "$REPO/rules" "$SIGMA_RULES" -type f -print0)

# warm_files LOG — reads LOG and WARM_FILES (see above) into the page cache.
warm_files() { cat "$1" "${WARM_FILES[@]}" >/dev/null; }

# run_once NAME — one run of a tool under /usr/bin/time, stdout to /dev/null, stderr to
# $WORK/NAME.err (of its last run). Its inputs are read into the page cache first (warm_files).
run_once() {
    local name=$1 tf=$WORK/$1.time ef=$WORK/$1.err in=/dev/null rc=0 t0 t1 wall_s
    [[ ${TOOL_IN[$name]} != - ]] && in=${TOOL_IN[$name]}
    local -a cmd
    eval "cmd=(${TOOL_CMD[$name]})"
    warm_files "${LOG_PATH[$CURRENT_LOG]}"
    t0=$EPOCHREALTIME
    "$TIME" -f '%e %M %U %S' -o "$tf" "${cmd[@]}" <"$in" >/dev/null 2>"$ef" || rc=$?
    t1=$EPOCHREALTIME
    wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
    TOOL_WALLS[$name]+="${TOOL_WALLS[$name]:+ }$wall_s"
    TOOL_LINES[$name]+="$wall_s $(tail -n1 "$tf")"$'\n'
    TOOL_RC[$name]=$rc
    # A failed tool, or a slow one (laurel), is not run again.
    if ((rc != 0)) || ! awk -v w="$wall_s" -v m="$REPEAT_BELOW_S" 'BEGIN{exit !(w < m)}'; then
        TOOL_REPEATS[$name]=0
    fi
}

# run_rounds — runs the current log's tools in RUNS rounds (see above) and records a row for each
# (the median run), in the order the tools were added.
run_rounds() {
    local round name i order=()
    log "measuring on the $CURRENT_LOG log: ${TOOL_ORDER[*]} ($RUNS rounds)"
    for ((round = 1; round <= RUNS; round++)); do
        order=()
        if ((round % 2 == 1)); then order=("${TOOL_ORDER[@]}"); else
            for ((i = ${#TOOL_ORDER[@]} - 1; i >= 0; i--)); do order+=("${TOOL_ORDER[$i]}"); done
        fi
        for name in "${order[@]}"; do
            if ((round == 1 || TOOL_REPEATS[$name])); then run_once "$name"; fi
        done
    done
    for name in "${TOOL_ORDER[@]}"; do
        local med maxrss wall e rss user sys
        med=$(printf '%s' "${TOOL_LINES[$name]}" | sort -n -k1,1 | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}')
        maxrss=$(printf '%s' "${TOOL_LINES[$name]}" | awk '$3 > m {m = $3} END{print m+0}')
        read -r wall e rss user sys <<<"$med"
        NAMES+=("$name")
        ROW_LOG+=("$CURRENT_LOG")
        WALL+=("$wall")
        TIME_E+=("$e")
        CPU+=("$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')")
        RSS+=("$maxrss")
        ALL_WALLS+=("${TOOL_WALLS[$name]}")
    done
    TOOL_ORDER=()
}

# record_status NAME — "ok" or "FAILED (exit N)" for the tool's row (and mark the whole run failed)
record_status() {
    local rc=${TOOL_RC[$1]}
    if ((rc == 0)); then STATUS+=(ok); else
        STATUS+=("FAILED (exit $rc)"); failed=1
        log "$1 failed:"; tail -n 5 "$WORK/$1.err" >&2
    fi
}

for CURRENT_LOG in "${LOGS[@]}"; do
    F=${LOG_PATH[$CURRENT_LOG]}
    tool ausearch - "$AUSEARCH" -if "$F" -m EXECVE --raw
    tool replay-netcat - "$EXECWATCH" replay "$F" --emit incidents --host "$HOST_NAME"
    tool replay-events - "$EXECWATCH" replay "$F" --emit events --host "$HOST_NAME"
    tool replay-sigma - "$EXECWATCH" replay "$F" --emit incidents --host "$HOST_NAME" \
        --rules "$REPO/rules" --rules "$SIGMA_RULES"
    [[ $CURRENT_LOG == sparse ]] && tool laurel "$F" "$LAUREL" -c "$LAUREL_CONFIG"
    run_rounds

    # ausearch: exit 1 with an empty stderr = no matches (with --raw it prints nothing then)
    if ((TOOL_RC[ausearch] == 1)) && [[ ! -s $WORK/ausearch.err ]]; then
        STATUS+=("NO MATCHES (exit 1)")
    else
        record_status ausearch
    fi
    record_status replay-netcat
    SUMMARIES+=("$CURRENT_LOG, netcat rule:  $(grep '^replay:' "$WORK/replay-netcat.err" | tail -n1 || true)")
    record_status replay-events
    SUMMARIES+=("$CURRENT_LOG, --emit events: $(grep '^replay:' "$WORK/replay-events.err" | tail -n1 || true)")
    record_status replay-sigma
    SUMMARIES+=("$CURRENT_LOG, Sigma corpus: $(grep '^replay:' "$WORK/replay-sigma.err" | tail -n1 || true)")
    if [[ $CURRENT_LOG == sparse ]]; then
        record_status laurel
        # laurel prefixes its messages with argv[0]: "/usr/sbin/laurel: Stopped /usr/sbin/laurel processed ..."
        LAUREL_STOP=$(grep -E 'Stopped .* processed ' "$WORK/laurel.err" | tail -n1 | sed -E 's|^[^:]*: ||; s|Stopped [^ ]*|Stopped laurel|' || true)
        LAUREL_ERRORS=$(grep -c 'Error' "$WORK/laurel.err" || true)
    fi
done

# ---------------------------------------------------------------------------------------------
# 5. Report
# ---------------------------------------------------------------------------------------------
row() { # row LOG NAME — index of that row
    local i
    for i in "${!NAMES[@]}"; do [[ ${ROW_LOG[$i]} == "$1" && ${NAMES[$i]} == "$2" ]] && { echo "$i"; return; }; done
}
echo
echo "== execwatch replay benchmark =="
for name in "${LOGS[@]}"; do
    echo "$name log: ${LOG_PATH[$name]}"
    echo "        $(awk -v b="${LOG_BYTES[$name]}" 'BEGIN{printf "%.1f", b/1e6}') MB (${LOG_BYTES[$name]} bytes), ${LOG_COPIES[$name]} renumbered copies of $(basename "${LOG_SOURCE[$name]}")"
    echo "        ${LOG_EVENTS[$name]} exec events (${LOG_PER_COPY[$name]} per copy = distinct event ids with an EXECVE record;" \
         "independent grep count: ${LOG_COUNTED[$name]})"
done
echo "        (dense: $(basename "$FIXTURE") reduced to its exec events with EXECVE records under $DENSE_MAX_ARGV_BYTES bytes)"
echo "binary: $EXECWATCH"
echo "rules:  replay-netcat and replay-events: the shipped rules (netcat); replay-sigma: those and $SIGMA_RULES"
echo "host:   $(nproc) cores, kernel $(uname -r), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MB = 10^6 bytes; wall = median of the runs; peak RSS = GNU time %M (max over the runs);"
echo "x ausearch = ausearch's wall on the same log / the row's wall (> 1: faster than ausearch)"
echo
{
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' log tool "wall s" "user+sys s" "MB/s" "events/s" "peak RSS MB" \
        "x ausearch" runs status
    for i in "${!NAMES[@]}"; do
        lg=${ROW_LOG[$i]} a=$(row "${ROW_LOG[$i]}" ausearch)
        awk -v lg="$lg" -v n="${NAMES[$i]}" -v w="${WALL[$i]}" -v c="${CPU[$i]}" -v r="${RSS[$i]}" \
            -v b="${LOG_BYTES[$lg]}" -v e="${LOG_EVENTS[$lg]}" -v st="${STATUS[$i]}" -v runs="${ALL_WALLS[$i]}" \
            -v aw="${WALL[$a]}" 'BEGIN{
            if (w <= 0) w = 0.001
            printf "%s\t%s\t%.3f\t%.2f\t%.1f\t%.0f\t%.1f\t%.2f\t%s\t%s\n", lg, n, w, c, b/1e6/w, e/w, r*1024/1e6, aw/w, runs, st }'
    done
} | column -t -s $'\t'
echo
echo "execwatch summaries:"
for s in "${SUMMARIES[@]}"; do echo "  $s"; done
echo "laurel (sparse log): ${LAUREL_STOP:-<no summary line>}; $LAUREL_ERRORS error lines on stderr"
for s in "${CHECK_NOTES[@]}"; do echo "$s"; done

echo
echo "goals (speed = ausearch's wall on the same log / the row's wall):"
all_ok=1
goal() { # goal LOG NAME MIN_X_AUSEARCH [MIN_X_LAUREL] — prints and records one goal line
    local i a l line
    # row fails for a row not measured (laurel runs on the sparse log only): not an error here.
    i=$(row "$1" "$2" || true) a=$(row "$1" ausearch || true) l=$(row "$1" laurel || true)
    [[ -n $i && -n $a ]] || { echo "  $1 $2: not measured"; all_ok=0; return; }
    line=$(awk -v e="${WALL[$i]}" -v a="${WALL[$a]}" -v l="${l:+${WALL[$l]}}" -v ga="$3" -v gl="${4:-}" -v r="${RSS[$i]}" 'BEGIN{
        if (e <= 0) e = 0.001
        va = a / e; rmb = r * 1024 / 1e6
        ok = (va >= ga && rmb < 50)
        out = sprintf("%.2fx ausearch (goal >= %sx: %s)", va, ga, va >= ga ? "MET" : "MISSED")
        if (gl != "" && l != "") { vl = l / e; ok = ok && vl >= gl; out = out sprintf(", %.1fx laurel (goal >= %sx: %s)", vl, gl, vl >= gl ? "MET" : "MISSED") }
        out = out sprintf(", peak RSS %.1f MB (goal < 50 MB: %s)", rmb, rmb < 50 ? "MET" : "MISSED")
        printf "%d|%s", ok, out }')
    [[ ${line%%|*} == 1 ]] || all_ok=0
    printf '  %-22s %s\n' "$1 $2:" "${line#*|}"
}
for name in "${LOGS[@]}"; do
    laurel_goal=""
    [[ $name == sparse ]] && laurel_goal=20
    goal "$name" replay-netcat 2 "$laurel_goal"
    goal "$name" replay-events 1 "$laurel_goal"
    goal "$name" replay-sigma 1
done
if ((all_ok)); then echo "goals: ALL MET"; else echo "goals: NOT ALL MET"; fi

echo
echo "commands (each tool alone, in rounds: one run of each, every other round in reverse order;"
echo "stdout to /dev/null, stderr captured):"
for c in "${CMDS[@]}"; do echo "  $c"; done
echo "laurel config ($LAUREL_CONFIG):"
sed 's/^/  | /' "$LAUREL_CONFIG"
echo "script run time: $(awk -v a="$SCRIPT_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}') s"

if ((failed)); then
    log "at least one tool failed"
    exit 1
fi
exit 0
