#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...] — builds the libFuzzer targets of Fuzz/ (with
# -sanitize=fuzzer,address, into .build-fuzz) and runs each for SECONDS_PER_TARGET (default 300).
#
# Seeds are read at run time: Fuzz/seeds/<target>/, the regression inputs of
# Tests/Fixtures/fuzz/<target>/, Tests/Fixtures, rules/, packaging/etc/ and the shared corpora
# (../shared/corpora or $EXECWATCH_CORPORA); binary seeds (netlink datagrams) are made from the
# captured audit fixture. Everything the fuzzer writes goes to $FUZZ_WORK_DIR (default
# /var/tmp/execwatch-fuzz), outside the repository: the growing corpus in corpus/<target>/,
# crashes, hangs and leaks in crashes/<target>/, the logs in logs/<target>.log.
#
# Prints the executions of each target and exits non-zero when any target found a crash.
# FUZZ_SKIP_BUILD=1 runs the targets as last built.
# Reproduce one: .build-fuzz/debug/<target> $FUZZ_WORK_DIR/crashes/<target>/crash-…
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-300}
shift || true
all_targets=(
    FuzzAuditLog FuzzAuditNetlink FuzzProcConnector FuzzRuleXML FuzzSigmaRule FuzzFilterLanguage FuzzConfiguration
    FuzzIngestBody FuzzQueryString FuzzIncidentJSON FuzzEventJSON
)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
work=${FUZZ_WORK_DIR:-/var/tmp/execwatch-fuzz}
corpora=${EXECWATCH_CORPORA:-$root/../shared/corpora}
scratch=${FUZZ_SCRATCH_PATH:-$root/.build-fuzz}
swift=${SWIFT:-swift}

case "$work/" in
"$root"/*) echo "fuzz: FUZZ_WORK_DIR must be outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$work"

echo "fuzz: building ${#targets[@]} target(s) into $scratch"
for target in "${targets[@]}"; do
    [ "${FUZZ_SKIP_BUILD:-0}" = 1 ] && break  # run what is built (while a build runs elsewhere)
    EXECWATCH_FUZZ=1 "$swift" build --scratch-path "$scratch" --product "$target" \
        -Xswiftc -sanitize=fuzzer,address >"$work/build-$target.log" 2>&1 || {
        tail -30 "$work/build-$target.log" >&2
        echo "fuzz: building $target failed (log: $work/build-$target.log)" >&2
        exit 2
    }
done
bin=$("$swift" build --scratch-path "$scratch" --show-bin-path 2>/dev/null)

# link_seeds DIR FILE...: symlinks to seed files (read in place, never copied into the repository).
link_seeds() {
    local dir=$1
    shift
    local file
    for file in "$@"; do
        [ -f "$file" ] || continue
        ln -sf "$(readlink -f "$file")" "$dir/$(echo "$file" | tr '/' '_')"
    done
}

# The seeds of one target, in $work/seeds/<target>/ (remade on every run).
make_seeds() {
    local target=$1 dir=$work/seeds/$1
    rm -rf "$dir"
    mkdir -p "$dir"
    case $target in
    FuzzAuditLog)
        link_seeds "$dir" Tests/Fixtures/audit/*.log
        [ -d "$corpora" ] && link_seeds "$dir" $(find "$corpora" -type f \( -name '*.log' -o -name '*.txt' \))
        ;;
    FuzzAuditNetlink)
        # Each record of the captured fixture as the kernel sends it: nlmsghdr + `audit(…): fields`.
        python3 - "$dir" Tests/Fixtures/audit/captured-debian12.log <<'PY'
import re, struct, sys
out, log = sys.argv[1], sys.argv[2]
types = {"SYSCALL": 1300, "PATH": 1302, "CWD": 1307, "EXECVE": 1309, "EOE": 1320, "PROCTITLE": 1327}
lines = open(log, "rb").read().split(b"\n")
n = 0
for line in lines:
    m = re.match(rb"type=(\w+) msg=(audit\(.*)", line)
    if not m or m.group(1).decode() not in types:
        continue
    payload = m.group(2).split(b"\x1d")[0]
    header = struct.pack("=IHHII", len(payload), types[m.group(1).decode()], 0, n, 0)
    open(f"{out}/record-{n:04d}", "wb").write(header + payload + b"\0")
    n += 1
    if n >= 200:
        break
# A status reply and an error reply.
status = struct.pack("=11I", 1, 1, 1, 4242, 0, 8192, 3, 0, 0x7F, 0, 0)
open(f"{out}/status", "wb").write(struct.pack("=IHHII", 16 + len(status), 1000, 0, 1, 0) + status)
open(f"{out}/error", "wb").write(struct.pack("=IHHII", 36, 2, 0, 1, 0) + struct.pack("=i", -1) + bytes(16))
PY
        ;;
    FuzzProcConnector)
        python3 - "$dir" <<'PY'
import struct, sys
out = sys.argv[1]
def message(what, first, second):
    event = struct.pack("=IIQ", what, 0, 123456789) + struct.pack("=IIII", first, second, 0, 0)
    cn = struct.pack("=IIIIHH", 1, 1, 7, 0, len(event), 0) + event
    return struct.pack("=IHHII", 16 + len(cn), 3, 0, 7, 0) + cn
open(f"{out}/exec", "wb").write(message(2, 4242, 4242))
open(f"{out}/ack", "wb").write(message(0, 0, 0))
open(f"{out}/two", "wb").write(message(2, 1, 1) + message(2, 2, 2))
PY
        cp /proc/self/stat "$dir/stat" 2>/dev/null || true
        cp /proc/self/status "$dir/status" 2>/dev/null || true
        cp /proc/self/cmdline "$dir/cmdline" 2>/dev/null || true
        ;;
    FuzzRuleXML) link_seeds "$dir" rules/*.xml ;;
    FuzzSigmaRule)
        # Fuzz/seeds/FuzzSigmaRule (read in place) and a sample of the corpus's rules.
        [ -d "$corpora" ] && link_seeds "$dir" $(find "$corpora/sigma/rules" -type f -name '*.yml' | sort | head -60)
        ;;
    FuzzConfiguration)
        link_seeds "$dir" packaging/etc/*.yaml
        [ -d "$corpora" ] && link_seeds "$dir" $(find "$corpora/sigma" -type f -name '*.yml' | head -40)
        ;;
    FuzzIngestBody)
        # Mode byte 0: the body as sent; odd mode bytes: gzip, inflated in chunks of (mode >> 1) + 1.
        local seed
        for seed in Fuzz/seeds/FuzzIncidentJSON/*; do
            [ -f "$seed" ] || continue
            { printf '\000['; cat "$seed"; printf ']'; } >"$dir/raw-$(basename "$seed")"
            { printf '\007'; { printf '['; cat "$seed"; printf ']'; } | gzip -c; } >"$dir/gzip-$(basename "$seed")"
        done
        ;;
    FuzzIncidentJSON) ;;
    FuzzEventJSON)
        [ -d "$corpora" ] && link_seeds "$dir" $(find "$corpora" -type f -name '*.json' | head -20)
        ;;
    esac
}

declare -A executions status
failed=0
for target in "${targets[@]}"; do
    make_seeds "$target"
    corpus=$work/corpus/$target
    crashes=$work/crashes/$target
    mkdir -p "$corpus" "$crashes" "$work/logs"
    inputs=("$corpus" "$work/seeds/$target")
    [ -d "Fuzz/seeds/$target" ] && inputs+=("Fuzz/seeds/$target")
    [ -d "Tests/Fixtures/fuzz/$target" ] && inputs+=("Tests/Fixtures/fuzz/$target")
    options=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10
        -max_len=16384 -print_final_stats=1 -artifact_prefix="$crashes/")
    [ -f "Fuzz/dictionaries/$target.dict" ] && options+=(-dict="Fuzz/dictionaries/$target.dict")
    log=$work/logs/$target.log
    echo "fuzz: $target for ${seconds}s"
    rc=0
    # SWIFT_BACKTRACE off: a Swift trap is then a plain signal that libFuzzer reports with its input.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} LSAN_OPTIONS=suppressions=$root/Fuzz/lsan.supp "$bin/$target" "${options[@]}" "${inputs[@]}" >"$log" 2>&1 || rc=$?
    executions[$target]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        status[$target]="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |Fatal error|fuzz property' "$log" || echo 'see log')"
        echo "fuzz: $target failed; log $log; inputs in $crashes/" >&2
        grep -E '^(artifact_prefix|Test unit written)' "$log" >&2 || true
        failed=1
    else
        status[$target]=ok
    fi
done

echo
printf '%-20s %14s  %s\n' target executions result
total=0
for target in "${targets[@]}"; do
    printf '%-20s %14s  %s\n' "$target" "${executions[$target]:-?}" "${status[$target]}"
    total=$((total + ${executions[$target]:-0}))
done
printf '%-20s %14s\n' total "$total"
exit $failed
